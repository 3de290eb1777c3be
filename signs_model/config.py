"""Training hyperparameters in one visible place, checked once.

The defaults are the course's: a 25-12-6 network, Adam with learning rate
1e-4, 1500 epochs, minibatches of 32, minibatch seed 3 (+1 each epoch) and
graph seed 1.
"""
import dataclasses
import re
from dataclasses import dataclass

from .errors import SignsError, is_number

OPTIMIZERS = ("gd", "momentum", "rmsprop", "adam")
RUN_KEYS = ("engine", "device", "history", "notes")  # params.json keys that are not hyperparameters
MAX_SEED = 2**32 - 1     # NumPy's RandomState takes seeds in [0, 2**32 - 1]
MAX_TF_SEED = 2**31 - 1
FLOAT32_MAX = 3.4028234663852886e38  # the network computes in float32: larger values become inf


@dataclass
class TrainConfig:
    learning_rate: float = 0.0001
    num_epochs: int = 1500
    minibatch_size: int = 32
    hidden_units: tuple = (25, 12)
    optimizer: str = "adam"
    beta: float = 0.9        # momentum's beta
    beta1: float = 0.9       # Adam's first moment
    beta2: float = 0.999     # Adam's second moment, and RMSprop's decay
    epsilon: float = 1e-8    # Adam / RMSprop
    decay_rate: float = 0.0  # alpha = alpha0 / (1 + decay_rate * epoch_num)
    batch_norm: bool = False
    bn_momentum: float = 0.9
    l2_lambda: float = 0.0
    keep_prob: float = 1.0
    seed: int = 3            # minibatch shuffling: epoch e uses seed + 1 + e
    tf_seed: int = 1         # graph-level seed (tf.set_random_seed) and dropout's masks

    def __post_init__(self):
        self.hidden_units = tuple(self.hidden_units)
        self.check()

    def check(self):
        def bad(name, expected):
            raise SignsError(f"{name} must be {expected}, got {getattr(self, name)!r}")

        def is_int(v):
            return isinstance(v, int) and not isinstance(v, bool)

        if not is_number(self.learning_rate) or self.learning_rate <= 0:
            bad("learning_rate", "a positive number")
        for name in ("learning_rate", "l2_lambda"):
            if is_number(getattr(self, name)) and getattr(self, name) > FLOAT32_MAX:
                raise SignsError(f"{name} must be at most {FLOAT32_MAX:.3g} (the largest float32, "
                                 f"in which the network computes), got {getattr(self, name):g}")
        for name in ("num_epochs", "minibatch_size"):
            if not is_int(getattr(self, name)) or getattr(self, name) < 1:
                bad(name, "a positive int")
        if not self.hidden_units or not all(is_int(u) and u >= 1 for u in self.hidden_units):
            bad("hidden_units", "one or more positive ints")
        if self.optimizer not in OPTIMIZERS:
            bad("optimizer", "one of " + ", ".join(OPTIMIZERS))
        for name in ("beta", "beta1", "beta2", "bn_momentum"):
            if not is_number(getattr(self, name)) or not 0 <= getattr(self, name) < 1:
                bad(name, "in [0, 1)")
        if not is_number(self.epsilon) or self.epsilon <= 0:
            bad("epsilon", "> 0")
        for name in ("decay_rate", "l2_lambda"):
            if not is_number(getattr(self, name)) or getattr(self, name) < 0:
                bad(name, ">= 0")
        if not is_number(self.keep_prob) or not 0 < self.keep_prob <= 1:
            bad("keep_prob", "in (0, 1]")
        if not isinstance(self.batch_norm, bool):
            bad("batch_norm", "true or false")
        if not is_int(self.seed) or not 0 <= self.seed <= MAX_SEED - self.num_epochs:
            # Epoch e shuffles with seed + 1 + e, which must stay a valid NumPy seed.
            bad("seed", f"an int in [0, {MAX_SEED - self.num_epochs}] (epoch e shuffles with "
                        f"seed + 1 + e, at most {MAX_SEED}, over {self.num_epochs} epochs)")
        if not is_int(self.tf_seed) or not 0 <= self.tf_seed <= MAX_TF_SEED:
            bad("tf_seed", f"an int in [0, {MAX_TF_SEED}]")

    def to_dict(self):
        d = dataclasses.asdict(self)
        d["hidden_units"] = list(self.hidden_units)
        return d

    def replace(self, **changes):
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_dict(cls, d):
        """Build from a dict such as params.json or a sampled search configuration.

        Search names ``hidden_units_1`` ... ``hidden_units_K`` set the layer sizes.
        """
        d = dict(d)
        layers = sorted((int(m.group(1)), k) for k in d
                        if (m := re.fullmatch(r"hidden_units_(\d+)", k)))
        if layers:
            if [i for i, _ in layers] != list(range(1, len(layers) + 1)):
                raise SignsError(f"hidden layer sizes must be numbered hidden_units_1 .. "
                                 f"hidden_units_K without gaps, got {[k for _, k in layers]}")
            d["hidden_units"] = [d.pop(k) for _, k in layers]
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise SignsError(f"unknown hyperparameter(s) {', '.join(unknown)}; "
                             f"expected some of {', '.join(sorted(names))}")
        return cls(**d)
