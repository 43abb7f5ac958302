"""The demo's summary names every check that did not pass with a one-line reason (it said
"5 warned" and nothing more): the rule from the check's description and what it counted."""

import dagster as dg

from headwater.cli.runs import failed_checks


@dg.asset(
    key=["canonical", "things"],
    check_specs=[
        dg.AssetCheckSpec("unique_keys", asset=["canonical", "things"],
                          description="X-Q01 (WARN): one row per key. Duplicates are named."),
        dg.AssetCheckSpec("in_range", asset=["canonical", "things"], description="X-Q02: in range."),
    ],
)  # fmt: skip
def things():
    yield dg.MaterializeResult()
    yield dg.AssetCheckResult(
        check_name="unique_keys",
        passed=False,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"failing_rows": 3, "sample": dg.MetadataValue.md("| k |")},
    )
    yield dg.AssetCheckResult(check_name="in_range", passed=True)


def test_failed_checks_name_rule_and_count():
    defs = dg.Definitions(assets=[things])
    result = dg.materialize([things])
    found = failed_checks(result, defs)
    assert found == {
        dg.AssetCheckKey(dg.AssetKey(["canonical", "things"]), "unique_keys"): (
            "WARN",
            "X-Q01 (WARN): one row per key (failing rows 3)",
        )
    }
