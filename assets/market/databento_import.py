"""databento, imported on first use with the process's warning filters kept.

databento's import turns every DeprecationWarning of the process on ("always", in front of
every filter: databento/__init__.py), which hid the filters of assets/__init__.py wherever it
loaded after them: the code server logged the environment_vars warning at every snapshot (the
daemon takes one a minute) and each run printed other libraries' deprecations. It is not
imported with the definitions (about 0.5 s); whatever needs it calls `import_databento()`
first, and imports from it after.
"""

import sys
import warnings
from types import ModuleType


def import_databento() -> ModuleType:
    """The databento package, its first import inside `warnings.catch_warnings()`."""
    module = sys.modules.get("databento")
    if module is None:
        with warnings.catch_warnings():
            import databento as module
    return module


def bento_warning() -> type[Warning]:
    """databento's BentoWarning (a server's warning about a request), databento imported as above."""
    import_databento()
    from databento.common.error import BentoWarning

    return BentoWarning
