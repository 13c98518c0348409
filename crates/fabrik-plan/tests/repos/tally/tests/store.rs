use std::process::Command;

#[test]
fn add_then_list() {
    let dir = std::env::temp_dir().join("tally-test-add");
    let _ = std::fs::create_dir_all(&dir);
    let bin = env!("CARGO_BIN_EXE_tally");
    let add = Command::new(bin).args(["add", "apple"]).current_dir(&dir).output().unwrap();
    assert!(add.status.success());
    let list = Command::new(bin).arg("list").current_dir(&dir).output().unwrap();
    assert!(String::from_utf8_lossy(&list.stdout).contains("apple"));
}
