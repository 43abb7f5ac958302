"""`python -m headwater.cli.setup`: create the instance directory and storage once, and on
the distributed profile the warehouse's database (what `make setup` and scripts/dev.sh
run), or say in one line what is wrong."""

import sys

from headwater import settings


def main() -> int:
    try:
        home = settings.ensure_dagster_home()
    except settings.SettingsError as exc:
        print(f"headwater: {exc}", file=sys.stderr)
        return 2
    postgres = settings.instance_kind() == "postgres"
    where = f" (Postgres {settings.postgres_target()})" if postgres else ""
    print(f"instance: {home}{where}")
    if settings.distributed():
        # Imported here: the warehouses load dagster and pandas (3 s), which the local
        # profile does not need, so a `make setup` with nothing to do stays instant.
        from resources.warehouses import warehouse

        store = warehouse()
        try:
            store.check()  # creates its database when it is not there yet
        except settings.SettingsError as exc:
            print(f"headwater: {exc}", file=sys.stderr)
            return 2
        print(f"warehouse: Postgres {store.where}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
