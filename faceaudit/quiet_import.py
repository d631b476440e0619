"""Import aif360 without the noise it prints on every import, and without TensorFlow where it is not loaded yet."""

import contextlib
import logging
import os
import sys
import warnings


@contextlib.contextmanager
def quiet_import():
    """Silence the noise of importing aif360, then restore the caller's settings.

    aif360 logs a root-logger warning for every optional extra it lacks, and
    ``aif360.metrics`` imports TensorFlow (through gerryfair's auditor and the
    in-processing package, for AdversarialDebiasing alone), whose C++ core
    prints start-up lines unless TF_CPP_MIN_LOG_LEVEL is set before it loads.
    Where TensorFlow is not loaded yet it is kept out (None in sys.modules:
    aif360 catches that ImportError and only AdversarialDebiasing, which
    faceaudit never uses, goes missing): importing it took 3 of the 5 seconds
    that each audit job spent importing aif360.
    """
    blocked = "tensorflow" not in sys.modules
    if blocked:
        sys.modules["tensorflow"] = None
    root_logger = logging.getLogger()
    placeholder_handler = logging.NullHandler()
    # logging.warning() installs a stderr handler on a handler-less root
    # logger; the placeholder prevents that lasting side effect.
    root_logger.addHandler(placeholder_handler)
    previous_disable_level = root_logger.manager.disable
    logging.disable(logging.WARNING)
    tensorflow_level_was_set = "TF_CPP_MIN_LOG_LEVEL" in os.environ
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        if blocked and sys.modules.get("tensorflow", 0) is None:
            del sys.modules["tensorflow"]
        if not tensorflow_level_was_set:
            del os.environ["TF_CPP_MIN_LOG_LEVEL"]
        logging.disable(previous_disable_level)
        root_logger.removeHandler(placeholder_handler)
