#!/usr/bin/env python3
"""Scaffolds a core audit: `python3 scripts/new-audit.py my-audit [--from secrets-inherit]`.

Copies the audit file and the fixture folder of an existing audit (`--from`, default
`secrets-inherit`) under the new id, renames the type, the id and the `# expect:` markers, and
adds the one `audits!` line. Then change the copy's checks, docs and fixtures, and run the bless
command it prints (see CONTRIBUTING.md, "Adding an audit").
"""

import argparse
import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
AUDITS = ROOT / "crates/ciguard-core/src/audits"
FIXTURES = ROOT / "crates/ciguard-core/tests/fixtures"


def type_name(audit_id: str) -> str:
    return "".join(part.capitalize() for part in audit_id.split("-"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("id", help="the new audit's id: lowercase words joined by `-`")
    parser.add_argument("--from", dest="template", default="secrets-inherit")
    args = parser.parse_args()
    new, old = args.id, args.template
    if not re.fullmatch(r"[a-z][a-z0-9]*(-[a-z0-9]+)*", new):
        print(f"error: `{new}` is not an id (lowercase words joined by `-`)", file=sys.stderr)
        return 2
    new_file = AUDITS / f"{new.replace('-', '_')}.rs"
    old_file = AUDITS / f"{old.replace('-', '_')}.rs"
    if new_file.exists() or (FIXTURES / new).exists():
        print(f"error: `{new}` already exists", file=sys.stderr)
        return 2
    if not old_file.is_file():
        print(f"error: no audit `{old}` to copy", file=sys.stderr)
        return 2

    text = old_file.read_text()
    text = text.replace(f'id: "{old}"', f'id: "{new}"').replace(type_name(old), type_name(new))
    new_file.write_text(text)

    (FIXTURES / new).mkdir()
    for case in sorted((FIXTURES / old).iterdir()):
        if case.suffix == ".snap":
            continue  # rendered by the bless command
        body = case.read_text().replace(f"# expect: {old}", f"# expect: {new}")
        (FIXTURES / new / case.name).write_text(body)

    registry = AUDITS / "mod.rs"
    lines = registry.read_text().split("\n")
    start = lines.index("audits! {")
    end = lines.index("}", start)
    module = new.replace("-", "_")
    lines.insert(end, f"    {module}::{type_name(new)},")
    registry.write_text("\n".join(lines))

    print(f"wrote {new_file.relative_to(ROOT)}, {(FIXTURES / new).relative_to(ROOT)}/ "
          f"and its line in {registry.relative_to(ROOT)}")
    print("now change the checks, the doc comment and the fixtures, then run:")
    print("  CIGUARD_BLESS=1 cargo test --locked -p ciguard --test docs_pages "
          "-p ciguard-core --test fixtures")
    return 0


if __name__ == "__main__":
    sys.exit(main())
