"""Regenerate the README's command outputs and result sentences from real runs of ddrisk.

Every block of README.md between ``<!-- ddrisk-output: NAME -->`` and ``<!-- /ddrisk-output -->``
is produced here: the terminal output of a ddrisk command (run through the real CLI entry
point, in-process, at a fixed terminal width) or a paragraph whose numbers and verdicts are read
from a command's JSON. ``--check`` compares the README with fresh output and exits 1 naming
every block that drifted (``tests/test_readme_outputs.py`` runs it), so a README number cannot
silently go stale.

    python scripts/readme_outputs.py            # rewrite the marked blocks of README.md in place
    python scripts/readme_outputs.py --check    # exit 1 when a block differs from fresh output
    python scripts/readme_outputs.py --list     # the block names
    python scripts/readme_outputs.py --fragment OUT.md   # every block, with markers, into OUT.md
    python scripts/readme_outputs.py --stress-run latest  # also the stress sentence (needs a run)
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
WIDTH = "100"  # COLUMNS for every command: the README's outputs do not depend on the terminal
START = "<!-- ddrisk-output: {name} -->"
END = "<!-- /ddrisk-output -->"
_BLOCK = re.compile(
    r"<!-- ddrisk-output: (?P<name>[a-z0-9-]+) -->\n(?P<body>.*?)<!-- /ddrisk-output -->",
    re.DOTALL,
)


@dataclass(frozen=True)
class Run:
    output: str
    exit_code: int


def run_ddrisk(args: list[str], *, cwd: Path | None = None) -> Run:
    """Run ``ddrisk ARGS`` through its click entry point, as a terminal-less shell would."""
    import os

    from click.testing import CliRunner

    from ddrisk.cli import main

    previous = Path.cwd()
    try:
        if cwd is not None:
            os.chdir(cwd)
        result = CliRunner().invoke(
            main, args, env={"COLUMNS": WIDTH, "NO_COLOR": "1", "TERM": "dumb"}
        )
    finally:
        os.chdir(previous)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise RuntimeError(f"ddrisk {' '.join(args)} crashed: {result.exception!r}")
    return Run(result.output, result.exit_code)


def _text_block(command: str, output: str) -> str:
    lines = [line.rstrip() for line in output.rstrip("\n").splitlines()]
    return "```text\n$ " + command + "\n" + "\n".join(lines) + "\n```\n"


def _command(args: list[str], *, expect: int = 0) -> Callable[[], str]:
    def generate() -> str:
        run = run_ddrisk(args)
        if run.exit_code != expect:
            raise RuntimeError(f"ddrisk {' '.join(args)} exited {run.exit_code}: {run.output}")
        return _text_block("ddrisk " + " ".join(args), run.output)

    return generate


def analyze_stack() -> str:
    """``ddrisk analyze --stack DEBATE,RE``: the findings and the stack's straight-through modes.

    The tables in between (overlap, groups, best stacks, priorities, robustness) are left out
    and the README says so; everything shown is verbatim output.
    """
    args = ["analyze", "--stack", "DEBATE,RE"]
    run = run_ddrisk(args)
    if run.exit_code != 0:
        raise RuntimeError(run.output)
    lines = run.output.splitlines()
    first_table = next(i for i, line in enumerate(lines) if "Failure modes shared" in line)
    stack_start = next(i for i, line in enumerate(lines) if line.startswith("Stack DEBATE+RE"))
    stack_end = stack_start + 1
    while stack_end < len(lines) and lines[stack_end].startswith("  "):
        stack_end += 1
    kept = [*lines[:first_table], "", *lines[stack_start:stack_end]]
    return _text_block("ddrisk " + " ".join(args), "\n".join(kept))


def validate_error() -> str:
    """``ddrisk validate`` on the built-in catalog with one bad value: the one-line error."""
    from importlib import resources

    text = resources.files("ddrisk.catalog.data").joinpath("dung-mai-2025.yaml").read_text("utf-8")
    lines = text.splitlines(keepends=True)
    start = lines.index("ratings:\n")
    index = next(i for i in range(start, len(lines)) if lines[i].strip().startswith("confidence:"))
    lines[index] = lines[index].split("confidence:")[0] + "confidence: mid\n"
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "cat.yaml").write_text("".join(lines), encoding="utf-8")
        run = run_ddrisk(["validate", "cat.yaml"], cwd=Path(folder))
    if run.exit_code != 2:
        raise RuntimeError(f"expected exit 2 from the bad catalog, got {run.exit_code}")
    return _text_block("ddrisk validate cat.yaml", run.output)


def _analysis_json() -> dict:
    run = run_ddrisk(["analyze", "--json"])
    return json.loads(run.output)


def analysis_reading() -> str:
    """The README's reading of the built-in analysis, every number and verdict computed."""
    data = _analysis_json()
    findings = {f["key"]: f for f in data["summary"]}
    robust = data["robustness"]
    best = data["best_stacks"]["by_policy"]
    groups = data["groups"]["by_policy"]["pessimistic"]
    correlated = [g["members"] for g in groups if g["kind"] == "correlated"]
    complementary = [g["members"] for g in groups if g["kind"] == "complementary"]
    top = data["priorities"]["top"]["pessimistic"]
    high = findings["high_tax_group"]["numbers"]
    pairs = {
        policy: [" + ".join(s["stack"]) for s in best[policy]["2"]["tied_best"]]
        for policy in ("pessimistic", "optimistic")
    }
    top_changes = robust["change_counts"]["pessimistic"]["top_priority"]
    top_share = robust["holds_share"]["pessimistic"]["top_priority"]
    fewest_pess = high["pessimistic"]["fewest"]
    fewest_opt = high["optimistic"]["fewest"]
    arithmetic = findings["paper_arithmetic"]["numbers"]
    sentences = [
        "What the analysis says about the paper (numbers from `ddrisk analyze --json`): "
        f"its correlated group ({', '.join(' + '.join(g) for g in correlated) or 'none'}), the "
        f"complementary pair ({', '.join(' + '.join(g) for g in complementary) or 'none'}) and "
        f"the top priority ({', '.join(top)}) all come out of the table.",
        (
            '"Scientist AI and IDA have the fewest failure modes" holds only if Scientist AI\'s '
            "'?' cells are read as not prone."
            if fewest_opt and not fewest_pess
            else '"Scientist AI and IDA have the fewest failure modes" '
            + ("holds under both readings." if fewest_pess else "does not hold.")
        ),
        _pair_sentence(pairs, findings["complementary_pair"]["numbers"]),
        f"{', '.join(top)}'s first place survives "
        + ("every" if top_share == 1.0 else f"{top_share:.0%} of the")
        + " resolution of '?' and all but "
        + f"{top_changes} of {robust['cells_checked']} single-cell changes.",
        "The paper's premise that the techniques fail together beyond chance is weaker than its "
        f"arithmetic: pairs of techniques share {arithmetic['pessimistic']['shared_observed']} "
        f"failure modes counting '?' as prone, against "
        f"{arithmetic['pessimistic']['shared_expected_if_independent']:.1f} expected if each "
        "were prone to its modes independently, and "
        f"{arithmetic['optimistic']['shared_observed']} against "
        f"{arithmetic['optimistic']['shared_expected_if_independent']:.1f} on definite cells: "
        "most techniques are prone to most modes, so large overlaps are what chance predicts.",
    ]
    text = " ".join(s for s in sentences if s)
    return _wrap(text) + "\n"


def _pair_sentence(pairs: dict[str, list[str]], complementary: dict) -> str:
    """Whether the complementary pair is the best pair, overall and without high-tax layers."""
    reading = complementary.get("pessimistic")
    if not reading:
        return ""
    members = " + ".join(reading["members"])
    overall = "is" if members in pairs["pessimistic"] else "is not"
    text = (
        f"The best pair is {' / '.join(pairs['pessimistic'])} counting '?' as prone and "
        f"{' / '.join(pairs['optimistic'])} on definite cells"
        + (" (tied)" if len(pairs["optimistic"]) > 1 else "")
        + f"; the complementary pair {members} {overall} among them"
    )
    affordable = "is" if reading["best_without_high_tax"] else "is not"
    return text + f", and {affordable} the best pair without a high-tax layer."


def _wrap(text: str, width: int = 100) -> str:
    import textwrap

    return textwrap.fill(text, width=width, break_long_words=False, break_on_hyphens=False)


def audit_example() -> str:
    """``ddrisk audit`` on the shipped example stack: the summary up to the best additions.

    Shared lineage and the audit questions (long, and listed in docs/audit.md) are cut where
    marked; every line shown is verbatim output.
    """
    args = ["audit", "examples/llm-assistant-stack.yaml"]
    run = run_ddrisk(args, cwd=ROOT)
    if run.exit_code != 0:
        raise RuntimeError(run.output)
    lines = run.output.splitlines()
    lineage = next(i for i, line in enumerate(lines) if line.startswith("Shared lineage"))
    additions = next(i for i, line in enumerate(lines) if line.startswith("Best additions"))
    priorities = next(i for i, line in enumerate(lines) if line.startswith("Research priorities"))
    kept = [
        *lines[:lineage],
        "[shared lineage and the five audit questions, summed over layers ...]",
        *lines[additions:priorities],
        "[research priorities, framework mappings and the audit questions per layer follow]",
    ]
    return _text_block("ddrisk " + " ".join(args), "\n".join(kept))


def audit_reading() -> str:
    """The README's reading of the example audit, every number from ``ddrisk audit --json``."""
    run = run_ddrisk(["audit", "examples/llm-assistant-stack.yaml", "--json"], cwd=ROOT)
    if run.exit_code != 0:
        raise RuntimeError(run.output)
    data = json.loads(run.output)
    return _wrap(audit_sentence(data)) + "\n"


def audit_sentence(data: dict) -> str:
    """One paragraph from an audit record; kept apart so a test can feed it any record."""
    risk = data["risk"]
    layers = risk["n_layers"]
    additions = data["additions"]
    text = (
        f"The {layers} layers behave like {risk['effective_layers']:.1f} independent ones:"
        f" P(all layers fail) is {risk['probability']:.2f}, against"
        f" {risk['independence_prediction']:.2f} if they failed independently"
        f" ({risk['correlation_penalty']:.1f}x)."
    )
    if additions.get("best"):
        text += (
            f" Within the budget the best additions are {' + '.join(additions['best'])}"
            f" (cost {additions['cost_best']:g} of {additions['budget']:g}), taking P(all layers"
            f" fail) from {additions['probability_fixed']:.2f} to"
            f" {additions['probability_best']:.2f}."
        )
    else:
        text += " No addition within the budget lowers P(all layers fail)."
    return text


GOLDEN_LOGS = (
    "tests/fixtures/golden/inspect/guard_stack.eval",
    "tests/fixtures/golden/promptfoo/results.json",
    "tests/fixtures/golden/garak/repeat.report.jsonl tests/fixtures/golden/garak/scripted.report.jsonl",
)


def imports() -> str:
    """``ddrisk stress analyze`` on the real tool logs of tests/fixtures/golden: the per-layer table.

    Everything after the per-layer table (pairs, stack, families, warnings) is cut where marked.
    """
    parts = []
    for files in GOLDEN_LOGS:
        args = ["stress", "analyze", *files.split()]
        run = run_ddrisk(args, cwd=ROOT)
        if run.exit_code != 0:
            raise RuntimeError(run.output)
        lines = [line.rstrip() for line in run.output.splitlines()]
        end = next(i for i, line in enumerate(lines) if line.strip().startswith("pairs on"))
        parts.append("$ ddrisk " + " ".join(args))
        parts.extend(lines[:end])
        parts.append("[pairs, the stack, families and warnings follow]")
        parts.append("")
    return "```text\n" + "\n".join(parts).rstrip("\n") + "\n```\n"


def raters_agree() -> str:
    """``ddrisk raters agree`` on the illustrative rater files: the whole-matrix agreement table."""
    files = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "examples" / "raters").glob("*.yaml"))
    args = ["raters", "agree", *files]
    run = run_ddrisk(args, cwd=ROOT)
    if run.exit_code != 0:
        raise RuntimeError(run.output)
    lines = [line.rstrip() for line in run.output.splitlines()]
    end = next(i for i, line in enumerate(lines) if "Pairwise agreement" in line)
    kept = [*lines[:end], "[pairwise agreement and the cells that split the raters follow]"]
    return _text_block("ddrisk raters agree examples/raters/*.yaml", "\n".join(kept))


BLOCKS: dict[str, Callable[[], str]] = {
    "show": _command(["show"]),
    "validate-error": validate_error,
    "analyze-stack": analyze_stack,
    "analysis-reading": analysis_reading,
    "risk-stack": _command(["risk", "--stack", "RLHF,RE"]),
    "optimize": _command(["optimize"]),
    "audit-example": audit_example,
    "audit-reading": audit_reading,
    "imports": imports,
    "raters-agree": raters_agree,
}


def stress_within_family(run: str, runs_dir: Path) -> str:
    """The README's sentence on pooled vs within-family dependence, from a real stress run.

    Needs a stored run of the default experiment (about a minute and the stress data
    packages), so it is generated only with ``--stress-run`` and not by ``--check``.
    """
    result = run_ddrisk(["stress", "analyze", run, "--runs-dir", str(runs_dir), "--json"])
    if result.exit_code != 0:
        raise RuntimeError(result.output)
    return within_family_text(json.loads(result.output))


def within_family_text(data: dict) -> str:
    """The stress sentence from ``ddrisk stress analyze --json`` output."""
    pooled = data["stack"]["lift_pooled"]
    stratified = data["stack"]["lift_stratified"]
    rows = data["stack_by_family"]
    estimable = [r for r in rows if r.get("lift_estimable")]
    excluding = [r for r in estimable if r["lift_lo"] > 1.0 or r["lift_hi"] < 1.0]

    def lift(row: dict) -> str:
        return f"{row['family']} {row['lift']:.2f} [{row['lift_lo']:.2f}, {row['lift_hi']:.2f}]"

    text = (
        f"Pooled over families, all layers miss together {pooled['estimate']:.2f}x as often as "
        f"independence predicts [{pooled['lo']:.2f}, {pooled['hi']:.2f}]; within families the "
        f"ratio is {stratified['estimate']:.2f}x [{stratified['lo']:.2f}, {stratified['hi']:.2f}]"
    )
    if stratified["estimate"] < pooled["estimate"]:
        text += ", so most of the pooled excess comes from mixing easy and hard attack families"
    text += ". "
    if excluding:
        text += "Families whose within-family lift interval excludes 1: " + "; ".join(
            lift(r) for r in excluding
        )
    elif estimable:
        top = max(estimable, key=lambda r: r["lift"])
        text += (
            "No family's within-family lift interval excludes 1 (the largest is " + lift(top) + ")"
        )
    else:
        text += "No family has enough joint misses for a within-family lift"
    rest = [r["family"] for r in rows if not r.get("lift_estimable")]
    if rest:
        text += (
            f"; {', '.join(rest)} {'has' if len(rest) == 1 else 'have'} too few expected joint "
            "misses for one to be estimable"
        )
    return _wrap(text + f" (run {data['input']['run_id']}).") + "\n"


OPTIONAL = {"stress-within-family": "needs --stress-run (a stored run of the default experiment)"}


def generate(names: list[str] | None = None) -> dict[str, str]:
    """Fresh text of the named blocks (all by default)."""
    return {name: BLOCKS[name]() for name in (names or list(BLOCKS))}


def readme_blocks(text: str) -> dict[str, str]:
    """The marked blocks of a README, by name."""
    return {m.group("name"): m.group("body") for m in _BLOCK.finditer(text)}


def replace_blocks(text: str, fresh: dict[str, str]) -> str:
    def swap(match: re.Match[str]) -> str:
        name = match.group("name")
        body = fresh.get(name, match.group("body"))
        return f"{START.format(name=name)}\n{body}{END}"

    return _BLOCK.sub(swap, text)


def check(text: str, fresh: dict[str, str]) -> list[str]:
    """Problems, one line each: blocks missing from the README, unknown ones, and drifted ones."""
    found = readme_blocks(text)
    problems = [
        f"README.md has no block '{name}': add {START.format(name=name)} ... {END} "
        "where its output belongs, then run scripts/readme_outputs.py"
        for name in fresh
        if name not in found
    ]
    problems += [
        f"README.md block '{n}' is not generated here"
        for n in found
        if n not in BLOCKS and n not in OPTIONAL
    ]
    for name, body in fresh.items():
        if name in found and found[name] != body:
            problems.append(
                f"README.md block '{name}' differs from fresh output: run "
                "scripts/readme_outputs.py to regenerate it"
            )
    return problems


def fragment(fresh: dict[str, str]) -> str:
    parts = [f"{START.format(name=name)}\n{body}{END}\n" for name, body in fresh.items()]
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when README blocks drift")
    parser.add_argument("--list", action="store_true", help="print the block names")
    parser.add_argument("--fragment", type=Path, help="write every block with markers here")
    parser.add_argument("--readme", type=Path, default=README)
    parser.add_argument("--stress-run", help="also regenerate stress-within-family from this run")
    parser.add_argument("--runs-dir", type=Path, default=Path("ddrisk-runs"))
    args = parser.parse_args(argv)
    if args.list:
        print("\n".join([*BLOCKS, *OPTIONAL]))
        return 0
    fresh = generate()
    if args.stress_run:
        fresh["stress-within-family"] = stress_within_family(args.stress_run, args.runs_dir)
    if args.fragment:
        args.fragment.write_text(fragment(fresh), encoding="utf-8")
        print(f"wrote {args.fragment}")
        return 0
    text = args.readme.read_text(encoding="utf-8")
    if args.check:
        problems = check(text, fresh)
        for problem in problems:
            print(problem, file=sys.stderr)
        return 1 if problems else 0
    found = readme_blocks(text)
    missing = [name for name in fresh if name not in found]
    args.readme.write_text(replace_blocks(text, fresh), encoding="utf-8")
    print(f"updated {len(fresh) - len(missing)} block(s) in {args.readme}")
    for name in missing:
        print(
            f"no marker for '{name}' in {args.readme}: add {START.format(name=name)}",
            file=sys.stderr,
        )
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
