"""What the fleet callback's tests feed it in place of Ansible's display and
hosts, in one place for every test of the callback."""

from __future__ import annotations

# An access key that must never reach the callback's output.
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


class FakeDisplay:
    """Keeps each line the callback would print."""

    def __init__(self, verbosity: int = 0) -> None:
        self.verbosity = verbosity
        self.lines: list[str] = []

    def display(self, msg: str, **_kwargs) -> None:
        self.lines.append(msg)


class FakeHost:
    """An account of the inventory: its id as the host name, and its name."""

    def __init__(self, name: str, account_name: str = "") -> None:
        self.name = name
        self.vars = {"aws_account_name": account_name} if account_name else {}

    def get_name(self) -> str:
        return self.name
