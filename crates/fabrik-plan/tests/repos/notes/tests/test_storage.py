from notes.storage import NoteStore


def test_add_then_all(tmp_path):
    store = NoteStore(tmp_path / "n.txt")
    store.add("buy\nmilk")
    assert store.all() == ["buy milk"]
