//! The built-in `clones` gate: a builder that pastes an existing function under a new name
//! with renamed variables is stopped before verification, and told which code to reuse.

use fabrik_testkit::script::Step;

use crate::common::{Fixture, before, happy};

const ORIGINAL: &str = r#"def compute_totals(orders, tax_rate):
    totals = []
    for order in orders:
        subtotal = 0
        for item in order["items"]:
            subtotal += item["price"] * item["quantity"]
        tax = subtotal * tax_rate
        shipping = 5 if subtotal < 50 else 0
        totals.append({"id": order["id"], "subtotal": subtotal, "tax": tax, "total": subtotal + tax + shipping})
    return totals
"#;

fn renamed_copy() -> String {
    ORIGINAL
        .replace("compute_totals", "sum_invoices")
        .replace("orders", "invoices")
        .replace("order", "inv")
}

#[test]
fn a_renamed_copy_of_existing_code_fails_the_clones_gate() {
    let fx = Fixture::new();
    fx.repo.write("src/orders.py", ORIGINAL);
    fx.repo.commit_all("orders");
    fx.script(before(
        Step::stage("execution").write("src/invoices.py", renamed_copy()),
        happy(),
    ));

    let (run, r) = fx.run_json(&["--json", "fix typo in docs"]);
    run.expect_code(4);
    let id = r["run_id"].as_str().unwrap().to_owned();
    assert_eq!(
        fx.stages_called(&id),
        ["execution"],
        "the verifier never runs"
    );
    let gates = r["stages"][1]["gates"].as_array().unwrap();
    let clones = gates.iter().find(|g| g["name"] == "clones").unwrap();
    assert_eq!(clones["status"], "fail");
    let tail = clones["output_tail"].as_str().unwrap();
    assert!(
        tail.contains("NEW clone: src/invoices.py:1-10 duplicates src/orders.py:1-10"),
        "{tail}"
    );
    assert!(tail.contains("renamed"), "{tail}");
}

#[test]
fn new_code_that_copies_nothing_passes_and_the_verifier_sees_the_gate() {
    let fx = Fixture::new();
    fx.repo.write("src/orders.py", ORIGINAL);
    fx.repo.commit_all("orders");
    fx.script(happy());
    let (run, r) = fx.run_json(&["--json", "fix typo in docs"]);
    run.expect_code(0);
    let clones = r["stages"][1]["gates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"] == "clones")
        .cloned()
        .unwrap();
    assert_eq!(clones["status"], "pass");
    let id = r["run_id"].as_str().unwrap();
    let verifier = fx
        .calls()
        .into_iter()
        .find(|c| c.stage == "verification" && c.run_id == id)
        .unwrap();
    assert!(
        verifier.prompt.contains("- clones: PASS"),
        "{}",
        verifier.prompt
    );
}
