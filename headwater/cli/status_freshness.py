"""`headwater status`'s freshness: the state of every asset's Dagster freshness policy, as
the daemon recorded it in the instance (what the UI shows), or, before the daemon has
evaluated it, the same policy evaluated here against the asset's last materialization."""

from datetime import datetime

import dagster as dg

from headwater.freshness import STATUS, Freshness, describe, evaluate, iso

NOT_EVALUATED = "not evaluated yet (the daemon evaluates freshness): evaluated here"


def policy_states(
    instance: dg.DagsterInstance,
    specs: list[dg.AssetSpec],
    now: datetime,
    daemon_running: bool,
) -> dict[str, Freshness]:
    """asset key ("a/b") -> its row, for every spec with a freshness policy (domain: its
    group). The daemon records a state when it changes, so a record is current while the
    daemon runs; when it does not and the policy now says otherwise, the note says so."""
    specs = [spec for spec in specs if spec.freshness_policy is not None]
    keys = [spec.key for spec in specs]
    records = instance.get_freshness_state_records(keys) if keys else {}
    # The daemon's evaluators read the same event's timestamp.
    latest = instance.get_latest_materialization_events(keys) if keys else {}
    out = {}
    for spec in specs:
        policy = spec.freshness_policy
        event = latest.get(spec.key)
        last = event.timestamp if event else None
        here = evaluate(policy, last, now)
        record = records.get(spec.key)
        if record is None:
            state, by, since, note = here, "headwater status", None, NOT_EVALUATED
        else:
            state, by = record.freshness_state.value, "daemon"
            since, note = record.updated_at.isoformat(), ""
            if not daemon_running and here != state:
                note = f"the daemon is not running: by the policy now {here}"
        out[spec.key.to_user_string()] = Freshness(
            domain=spec.group_name or "default",
            asset=spec.key.to_user_string(),
            status=STATUS.get(state, state),
            state=state,
            policy=describe(policy),
            evaluated_by=by,
            since=since,
            last_materialized=iso(last),
            note=note,
        )
    return out
