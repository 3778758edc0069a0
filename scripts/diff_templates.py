"""Compare the synthesized templates of two trees: resource types, logical ids and properties.

    .venv/bin/python scripts/diff_templates.py synth /tmp/before     # on the old commit
    .venv/bin/python scripts/diff_templates.py synth /tmp/after      # on the new one
    .venv/bin/python scripts/diff_templates.py diff /tmp/before /tmp/after

`synth` skips asset bundling (asset hashes are computed from the inputs, so they still change
exactly when an asset's content does). `diff` ignores Metadata (construct paths) and prints every
added, removed or changed resource with the properties that differ; exit status 1 if any.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def synth(outdir: str) -> None:
    sys.path.insert(0, str(ROOT))
    import aws_cdk as cdk

    from app import build_app

    build_app(cdk.App(outdir=outdir, context={"aws:cdk:bundling-stacks": []})).synth()


def diff(before: Path, after: Path) -> int:
    changes = 0
    for old_path in sorted(before.glob("*.template.json")):
        old = json.loads(old_path.read_text())
        new_path = after / old_path.name
        new = json.loads(new_path.read_text()) if new_path.is_file() else {"Resources": {}}
        stack = old_path.name.removesuffix(".template.json")
        a, b = old.get("Resources", {}), new.get("Resources", {})
        for logical_id in sorted(a.keys() - b.keys()):
            print(f"{stack}: removed {logical_id} ({a[logical_id]['Type']})")
        for logical_id in sorted(b.keys() - a.keys()):
            print(f"{stack}: added {logical_id} ({b[logical_id]['Type']})")
        changes += len(a.keys() ^ b.keys())
        for logical_id in sorted(a.keys() & b.keys()):
            x = {k: v for k, v in a[logical_id].items() if k != "Metadata"}
            y = {k: v for k, v in b[logical_id].items() if k != "Metadata"}
            if x == y:
                continue
            changes += 1
            print(f"{stack}: changed {logical_id} ({x['Type']})")
            props_x, props_y = x.get("Properties", {}), y.get("Properties", {})
            for key in sorted(props_x.keys() | props_y.keys()):
                if props_x.get(key) != props_y.get(key):
                    print(f"    {key}: {json.dumps(props_x.get(key))[:240]}")
                    print(f"    {' ' * len(key)}→ {json.dumps(props_y.get(key))[:240]}")
            for key in sorted((x.keys() | y.keys()) - {"Properties"}):
                if x.get(key) != y.get(key):
                    print(f"    [{key}] {x.get(key)} → {y.get(key)}")
        for section in ("Outputs", "Conditions", "Parameters"):
            if old.get(section) != new.get(section):
                changes += 1
                print(f"{stack}: {section} differ")
    print(f"{changes} difference(s)")
    return 1 if changes else 0


if __name__ == "__main__":
    command, *args = sys.argv[1:] or ["help"]
    if command == "synth" and len(args) == 1:
        synth(args[0])
    elif command == "diff" and len(args) == 2:
        sys.exit(diff(Path(args[0]), Path(args[1])))
    else:
        sys.exit(__doc__)
