"""ansible-lint over the YAML examples of README.md, docs/ and the roles'
READMEs (part of `make lint`). ansible-lint does not read Markdown, so each
```yaml block is written to a scratch project, where its path tells
ansible-lint what it is: a playbook (a list of plays; a play's `roles:`
entries go inside one), a task list, an inventory file, or variables; then ansible-lint runs there with this collection's .ansible-lint.
Findings name the Markdown file and the block's first line.
"""

from __future__ import annotations

import glob
import os
import re
import subprocess
import sys
import tempfile

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BLOCK = re.compile(r"^```ya?ml\n(.*?)^```", re.S | re.M)


def sources() -> list[str]:
    return ["README.md"] + sorted(glob.glob("docs/*.md", root_dir=REPO)) + sorted(glob.glob("roles/*/README.md", root_dir=REPO))


def as_linted(text: str) -> tuple[str, str]:
    """The folder that tells ansible-lint what the block is, and the text to lint."""
    data = yaml.safe_load(text)
    if isinstance(data, list) and data and isinstance(data[0], dict) and "hosts" in data[0]:
        return "playbooks", text
    if isinstance(data, list) and data and isinstance(data[0], dict) and "role" in data[0]:
        # A play's `roles:` entries: lint them inside a play.
        indented = "".join("    " + line if line.strip() else line for line in text.splitlines(True))
        return "playbooks", "- name: Example\n  hosts: localhost\n  roles:\n" + indented
    if isinstance(data, list):
        return "tasks", text
    if isinstance(data, dict) and "plugin" in data:
        return "inventory", text
    return "vars", text


def main() -> int:
    origin: dict[str, tuple[str, int, int]] = {}
    with tempfile.TemporaryDirectory(prefix="trailops-doc-examples-") as scratch:
        for source in sources():
            with open(os.path.join(REPO, source), encoding="utf-8") as handle:
                text = handle.read()
            for number, match in enumerate(BLOCK.finditer(text), start=1):
                kind, example = as_linted(match.group(1))
                folder = os.path.join(scratch, kind)
                os.makedirs(folder, exist_ok=True)
                name = f"{source.replace('/', '_').removesuffix('.md')}_{number}.yml"
                with open(os.path.join(folder, name), "w", encoding="utf-8") as handle:
                    handle.write("---\n" + example)
                added = example.count("\n") - match.group(1).count("\n")
                origin[name] = (source, text.count("\n", 0, match.start()) + 2, added)
        proc = subprocess.run(
            [os.path.join(os.path.dirname(sys.executable), "ansible-lint"), "--nocolor", "-f", "pep8",
             "-c", os.path.join(REPO, ".ansible-lint"), "--project-dir", scratch],
            cwd=scratch,
            capture_output=True,
            text=True,
            check=False,
        )
    for line in proc.stdout.splitlines():
        match = re.match(r"(?P<path>[^:]+):(?P<line>\d+)(?P<rest>.*)", line)
        name = os.path.basename(match["path"]) if match else ""
        if name in origin:
            source, first, added = origin[name]
            # The scratch file starts with "---" and, for role entries, the play around them.
            line = f"{source}:{first + max(int(match['line']) - 2 - added, 0)}{match['rest']}"
        print(line)
    print(f"{len(origin)} YAML examples from {len(sources())} Markdown files: ansible-lint exit {proc.returncode}")
    if proc.returncode:
        print(proc.stderr[-3000:], file=sys.stderr)
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main())
