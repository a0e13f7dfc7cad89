"""Where skgd's warnings point: the user's line that called into skgd.

A warning's ``stacklevel`` counts frames up from the call to
:func:`warnings.warn`, and a fit reaches it through a different number of
skgd's frames on each path (``fit``, ``partial_fit``, warm starts, the
numpy path or the compiled one), and of scikit-learn's and joblib's
(``Pipeline``, ``GridSearchCV``, ``cross_validate``, the ``_fit_context``
wrapper). A fixed count pointed into skgd (``skgd/_regressor.py:413:
ConvergenceWarning``), where the user cannot tell which of their fits it
was. :func:`warn` counts the frames instead: it points at the first one
outside these libraries and Python's own, as Python 3.12's
``skip_file_prefixes`` does.
"""

import os
import sys
import sysconfig
import warnings

import joblib
import sklearn

# skgd's own folder, scikit-learn's and joblib's (each ends with a separator: a user's
# "skgd_tools.py" beside a folder is not inside it)
_LIBRARIES = tuple(
    os.path.dirname(os.path.abspath(path)) + os.sep
    for path in (__file__, sklearn.__file__, joblib.__file__)
)
# Python's standard library: a joblib worker's frames below the fit are its own
# (multiprocessing, threading), not a user's line. Not its installed packages.
_STANDARD = os.path.abspath(sysconfig.get_paths()["stdlib"]) + os.sep
_INSTALLED = (os.sep + "site-packages" + os.sep, os.sep + "dist-packages" + os.sep)


def warn(message, category):
    """``warnings.warn(message, category)``, attributed to the nearest frame outside the libraries.

    Where every frame is inside them (a joblib worker's fit, whose frames
    end in the standard library's), the warning points at the caller of
    the function that called this, as ``stacklevel=2`` would.
    """
    frame, level = sys._getframe(1), 2  # (level 2: the frame calling this function)
    while frame is not None and _inside_libraries(frame.f_code.co_filename):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level if frame is not None else 3)


def _inside_libraries(filename):
    """Whether a frame of this file is skgd's, scikit-learn's, joblib's or Python's own."""
    if filename.startswith("<frozen "):  # (importlib's and runpy's)
        return True
    path = os.path.abspath(filename)
    if path.startswith(_LIBRARIES):
        return True
    return path.startswith(_STANDARD) and not any(part in path for part in _INSTALLED)
