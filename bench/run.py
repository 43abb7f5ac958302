"""`make bench`: every benchmark, one after the other (benchmarks, not tests)."""

import sys

from bench import energy, workforce


def main() -> int:
    status = energy.main([])
    print(flush=True)
    return status or workforce.main([]) or 0


if __name__ == "__main__":
    sys.exit(main())
