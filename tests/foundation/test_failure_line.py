"""The line a command prints for a failed run names the cause, not Dagster's wrapping of it."""

import dagster as dg

from headwater.cli.runs import failure_line


def _run(asset: dg.AssetsDefinition) -> dg.ExecuteInProcessResult:
    return dg.materialize([asset], instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)


def test_after_retries_the_line_gives_the_last_attempts_error():
    @dg.asset(retry_policy=dg.RetryPolicy(max_retries=2))
    def flaky():
        raise ValueError("unknown root 'ZZ.FUT' (roots: CL.FUT, ES.FUT, NG.FUT)")

    assert failure_line(_run(flaky)) == (
        "flaky: ValueError: unknown root 'ZZ.FUT' (roots: CL.FUT, ES.FUT, NG.FUT) "
        "(Exceeded max_retries of 2)"
    )


def test_an_exception_is_itself_and_a_failure_is_its_description():
    @dg.asset
    def broken():
        raise OSError("/data/x.csv: permission denied")

    @dg.asset
    def refused():
        raise dg.Failure(description="x.csv row 3, field ht: '6-13' is not a height")

    assert failure_line(_run(broken)) == "broken: OSError: /data/x.csv: permission denied"
    assert failure_line(_run(refused)) == "refused: x.csv row 3, field ht: '6-13' is not a height"
