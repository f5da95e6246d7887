"""Where skdann's warnings point: the user's line, not a frame of a library."""

import os
import sys


def user_stacklevel():
    """The ``stacklevel`` of the first frame outside the libraries (for ``warnings.warn``).

    Frames in skdann and in the libraries that call an estimator's ``fit``
    on the user's behalf (scikit-learn: its ``fit`` wrapper, ``Pipeline``,
    the searches and ``cross_validate``; joblib; skorch) are skipped, so the
    warning names the user's line, not a file of an installed package. With
    no frame outside them (a worker thread), the outermost frame.
    """
    libraries = tuple(
        os.path.dirname(os.path.abspath(module.__file__)) + os.sep
        for module in (sys.modules[__package__], *map(sys.modules.get, _CALLERS))
        if getattr(module, "__file__", None)
    )
    frame, level = sys._getframe(1), 1
    while frame.f_back is not None:
        if not os.path.abspath(frame.f_code.co_filename).startswith(libraries):
            break
        frame, level = frame.f_back, level + 1
    return level


# Packages whose frames stand between the user's call and skdann's warnings.
_CALLERS = ("sklearn", "joblib", "skorch")
