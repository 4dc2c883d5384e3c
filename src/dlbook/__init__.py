"""dlbook: the small shared package of the executable PyTorch textbook.

One call sets a notebook up (`setup`), `record` publishes a claim's number, `fit`/`evaluate` train and
test, `plot` draws the recurring figures, `data` loads data sets (or their quick-tier stand-ins) and
`checks` verifies exercises without revealing answers.
"""
from . import augment, baselines, checks, data, plot, standins, text, widgets
from .checks import answer_hash, check, check_hash
from .data import class_names, load_cifar10, load_mnist
from .env import Env, is_quick, pick_device, seed_everything, setup
from .record import record, summary
from .widgets import explore
from .train import (History, LongRunError, TensorBatches, accuracy, check_duration,
                    count_parameters, evaluate, fit, predict)

__version__ = "0.1.0"

__all__ = [
    "Env", "History", "LongRunError", "TensorBatches", "accuracy", "augment", "answer_hash", "baselines",
    "check", "check_duration", "check_hash", "checks", "class_names", "count_parameters", "data",
    "evaluate", "explore", "fit", "is_quick", "load_cifar10", "load_mnist", "pick_device", "plot",
    "predict", "record", "seed_everything", "setup", "standins", "summary", "text",
]
