"""`headwater simulate` (workforce domain; see README)."""


def add_parser(sub) -> None:
    p = sub.add_parser("simulate", help="run the multi-year workforce simulation")
    p.set_defaults(func=lambda args: print("not yet implemented") or 2)
