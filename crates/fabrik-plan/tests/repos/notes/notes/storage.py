"""Notes stored one per line in a UTF-8 text file."""

from __future__ import annotations

from pathlib import Path

DEFAULT_PATH = Path.home() / ".notes.txt"


class NoteStore:
    """Reads and appends notes."""

    def __init__(self, path: Path = DEFAULT_PATH) -> None:
        self.path = path

    def add(self, text: str) -> None:
        """Appends one note; newlines are folded into spaces."""
        line = " ".join(text.split())
        with self.path.open("a", encoding="utf-8") as f:
            f.write(line + "\n")

    def all(self) -> list[str]:
        """Every note, oldest first."""
        if not self.path.exists():
            return []
        return self.path.read_text(encoding="utf-8").splitlines()
