"""Population training: trials that share their minibatches, trained together in one graph.

The lecture's "caviar" strategy on one chip. Trials with the same minibatch
size, number of epochs, minibatch seed and input preprocessing see the same
minibatches in the same order, so one graph trains them all. It runs the fast
engine as it is (``engines.FastEngine``: the training data in the graph, a
``tf.while_loop`` over an epoch's minibatches, one ``sess.run`` per epoch), and
each step computes every trial's first layer in one product: the trials' W1
stacked into one (sum of their units) x n_x matrix times the shared minibatch,
which is gathered once for all. Row i of that product depends on row i of the
stack alone, and the gradient of the trials' summed costs reaches each trial's
variables from its own cost alone, so the trials stay independent: each keeps
its own variables, optimizer and hyperparameters (the rest of its network is
``network.forward_propagation`` on its rows), and its costs equal, within
float32 round-off, what ``train.train`` (fast engine) gives it on its own.

Each trial starts from the weights ``train.train`` gives it (drawn from its
own tf_seed by ``train.seeded_network``, in a throwaway graph: a graph has one
graph-level seed), draws the same dropout masks (a function of (tf_seed,
step)) and writes its own run folder through ``runs``: params.json, costs.csv,
TensorBoard events, the end-of-run files, and one checkpoint after its last
epoch, which ``train.train(resume=True)`` continues (``predict.Predictor``
loads the folder as any other). A trial whose cost becomes NaN or infinite is
dropped: its result is the ``errors.Diverged`` that ``train.train`` would raise,
and the others train on (its rows of the product stay NaN; they cannot reach
the others' rows). A trial its ``on_epoch`` hook stops (a search pruning it at
a rung) is saved there, checkpoint and stopped.json as ``train.train`` leaves
it, and the others go on in a new graph without it, from their variables and
optimizer slots as they were: a segment per stop. Ctrl-C stops the population
without saving; a search starts its unfinished trials again on a rerun.

What stays per trial is most of the work on a CPU: each trial's optimizer
updates its own W1 (n_x = 12288 columns) every step, and that memory-bound
update does not shrink by sharing the minibatch (README, "Hyperparameter search").

Only dense networks on photos that are not augmented share their first layer:
a config with conv blocks or augmentation is a population of its own in
``populations``, which ``executors`` trains with ``train.train``.

Example:
    >>> from signs_model.config import TrainConfig
    >>> cfgs = [TrainConfig(minibatch_size=32), TrainConfig(minibatch_size=64),
    ...         TrainConfig(minibatch_size=32, learning_rate=1e-3), TrainConfig(augment=True)]
    >>> populations(cfgs, size=8)
    [[0, 2], [1], [3]]
"""
import contextlib
import math
from pathlib import Path

import tensorflow.compat.v1 as tf

from .. import devices, epochs, network, runs, train
from ..engines import ENGINES, epoch_cost
from ..errors import SignsError, check_int

ENGINE = ENGINES["fast"]
NAME = "population"  # the engine named in a population trial's params.json and metrics.json


def population_key(cfg):
    """What trials must share to be trained together (their minibatches and their input),
    or None for a config that trains alone (conv blocks, augmentation, or flip test-time
    augmentation, which the population's shared graph does not evaluate)."""
    if cfg.conv_channels or cfg.augment or cfg.flip_tta:
        return None
    return cfg.minibatch_size, cfg.num_epochs, cfg.seed, cfg.preprocess


def populations(cfgs, size):
    """Split configs into populations of at most ``size`` that share ``population_key``.

    A group larger than ``size`` is cut into near-equal parts (10 by 8 gives 5 and 5).
    Returns:
        lists of indices into ``cfgs``, ordered by their first index.
    """
    check_int("size", size)
    groups = {}
    for i, cfg in enumerate(cfgs):
        key = population_key(cfg)
        groups.setdefault(("alone", i) if key is None else key, []).append(i)
    parts = []
    for group in groups.values():
        n = math.ceil(len(group) / size)
        parts.extend(group[j::n] for j in range(n))
    return sorted(parts)  # by first index: size 1 keeps the configs' order


def _initial_values(cfgs, n_x, n_y, session_config):
    """The weights ``train.train`` starts each config from (a dict by name per config).

    A graph has one graph-level seed, so they are drawn in a throwaway graph per tf_seed.
    """
    values = [None] * len(cfgs)
    for tf_seed in {cfg.tf_seed for cfg in cfgs}:
        with tf.Graph().as_default() as graph:
            networks = {}
            for k, cfg in enumerate(cfgs):
                if cfg.tf_seed == tf_seed:
                    with tf.variable_scope(f"trial{k}"):
                        networks[k] = train.seeded_network(cfg, n_x, n_y)
            with tf.Session(graph=graph, config=session_config) as sess:
                sess.run(tf.global_variables_initializer())
                for k, drawn in sess.run(networks).items():
                    values[k] = drawn
    return values


class _Optimizers:
    """Each trial's own optimizer on its own variables, after one backward pass for all.

    Quacks like the one optimizer the fast engine's loop calls ``minimize`` on.
    """

    def __init__(self, cfgs, learning_rates, variables):
        self.optimizers = [network.make_optimizer(cfg.optimizer, learning_rates[k], cfg.beta,
                                                  cfg.beta1, cfg.beta2, cfg.epsilon)
                           for k, cfg in enumerate(cfgs)]
        self.variables = variables

    def minimize(self, costs):
        # d(sum of costs)/d(trial k's variables) is d(cost k)/d(them): one backward pass.
        # Gated as Optimizer.minimize gates them, so grappler rewrites the same ops the same way.
        grads = iter(tf.gradients(tf.reduce_sum(costs), [v for vs in self.variables for v in vs],
                                  gate_gradients=True))
        steps = []
        for k, (optimizer, variables) in enumerate(zip(self.optimizers, self.variables)):
            with tf.variable_scope(f"trial{k}"):  # keeps each Adam's beta1_power apart
                steps.append(optimizer.apply_gradients([(next(grads), v) for v in variables]))
        return tf.group(steps)


def _checkpoint_variables(model, optimizer):
    """A trial's variables by the names ``train.build_graph`` gives them: its checkpoint's keys.

    Args:
        model: name -> variable of its network (W1, bn1/gamma, ...).
        optimizer: its optimizer, whose slots are named after the variable (W1/Adam,
            W1/Adam_1) and whose other variables stand alone (beta1_power).
    """
    named = dict(model)
    for name, v in model.items():
        for slot in filter(None, (optimizer.get_slot(v, s) for s in optimizer.get_slot_names())):
            named[f"{name}/{slot.op.name.rsplit('/', 1)[1]}"] = slot
    taken = set(named.values())
    named.update({v.op.name.rsplit("/", 1)[1]: v for v in optimizer.variables() if v not in taken})
    return named


def build_graph(cfgs, n_x, n_y, m):
    """Build the population's training graph in the current default graph.

    Args:
        cfgs: TrainConfigs with one ``population_key``; trial k's variables are
            ``trial{k}/W1``, ... (its checkpoint names them as ``train.build_graph`` does).
        n_x, n_y, m: input features, classes and training examples.
    Returns:
        dict: the fast engine's ops (``epoch_costs`` is (minibatches, trials)),
        ``learning_rate`` ((trials,) placeholder), ``X``/``Y`` and ``accuracies``
        ((trials,), on what X and Y are fed), and per trial ``model_variables``
        (name -> variable), ``state`` (name -> variable of all it checkpoints:
        its network and its optimizer's slots) and ``save`` (an op writing its
        checkpoint to ``checkpoint_prefix[k]``, a placeholder).
    """
    K = len(cfgs)
    X, Y = network.create_placeholders(n_x, n_y)
    learning_rates = tf.placeholder(tf.float32, (K,), name="learning_rate")
    parameters = []
    for k, cfg in enumerate(cfgs):
        with tf.variable_scope(f"trial{k}"):
            parameters.append(network.create_network(cfg, n_x, n_y))

    def logits(X, training, step):
        if cfgs[0].preprocess == "standardize":
            X = network.standardize(X)
        W = tf.concat([p["W1"] for p in parameters], axis=0)
        Z1 = tf.split(tf.matmul(W, X), [cfg.hidden_units[0] for cfg in cfgs], axis=0)
        ZL = []
        for k, (cfg, p) in enumerate(zip(cfgs, parameters)):
            seed = tf.stack([tf.constant(cfg.tf_seed, tf.int64), step])
            with tf.variable_scope(f"trial{k}"):  # batch norm's variables
                ZL.append(network.forward_propagation(None, p, training, cfg.batch_norm,
                                                      cfg.bn_momentum, cfg.keep_prob, seed, Z1[k]))
        return ZL

    def cost_of(X, Y, training, step):
        ZL = logits(X, training, step)
        return ZL, tf.stack([network.compute_cost(z, Y, p, cfg.l2_lambda, cfg.label_smoothing)
                             for z, p, cfg in zip(ZL, parameters, cfgs)])

    # Evaluation first: it creates batch norm's variables outside the epoch loop.
    correct = [tf.equal(tf.argmax(z), tf.argmax(Y)) for z in logits(X, False, tf.constant(0, tf.int64))]
    accuracies = tf.stack([tf.reduce_mean(tf.cast(c, tf.float32)) for c in correct])
    model = [{v.op.name[len(f"trial{k}/"):]: v for v in tf.global_variables()
              if v.op.name.startswith(f"trial{k}/")} for k in range(K)]
    trainable = set(tf.trainable_variables())
    optimizers = _Optimizers(cfgs, learning_rates,
                             [[v for v in vs.values() if v in trainable] for vs in model])
    spec = ENGINE.build(cfgs[0], n_x, n_y, m, cost_of, optimizers)
    # A Saver per trial would cost ~30 ops each; one SaveV2 op writes the same checkpoint.
    prefixes = tf.placeholder(tf.string, (K,), name="checkpoint_prefix")
    state = [_checkpoint_variables(model[k], optimizer)
             for k, optimizer in enumerate(optimizers.optimizers)]
    saves = []
    for k, named in enumerate(state):
        names, variables = zip(*sorted(named.items()))
        saves.append(tf.raw_ops.SaveV2(prefix=prefixes[k], tensor_names=names,
                                       shape_and_slices=[""] * len(names), tensors=variables))
    spec.update({"X": X, "Y": Y, "learning_rate": learning_rates, "accuracies": accuracies,
                 "model_variables": model, "state": state, "checkpoint_prefix": prefixes,
                 "save": saves})
    return spec


def train_population(cfgs, X_train, Y_train, eval_sets=None, run_dirs=None, device="auto",
                     eval_every=50, progress=True, threads=None, notes=None, on_epoch=None,
                     checkpoint_every=0):
    """Train the networks of ``cfgs`` together; each trial writes its own run folder.

    Args:
        cfgs: TrainConfigs that share ``population_key`` (``populations`` groups them).
        X_train (n_x, m) float32 in [0, 1], Y_train (n_y, m) one-hot.
        eval_sets: {"train": (X, Y), "dev": (X, Y), ...}: each trial's accuracies,
            reported as ``<name>_accuracy`` (and to TensorBoard).
        run_dirs: one new folder per config (see ``runs``), or None for none. Each
            gets a checkpoint after its last epoch or where its hook stopped it, and
            every ``checkpoint_every`` epochs (0: none along the way), which
            ``train.train(resume=True)`` continues.
        device, eval_every, progress, threads: as for ``train.train``.
        notes: one dict per config, stored in its params.json (None: none).
        on_epoch: one hook per config (or None), called as ``train.train`` calls its
            ``on_epoch``; a trial it stops leaves the population with its checkpoint
            and stopped.json, and the others go on in a graph without it.
    Returns:
        list, one entry per config: ``train.train``'s result (dict with "costs",
        "metrics" and "parameters"), or the ``errors.Diverged`` of a trial whose
        cost broke, or the ``errors.Stopped`` of a trial its hook stopped. A trial's
        metrics["seconds"] is its share of the population's time;
        metrics["population"] is how many started together.
    """
    cfgs = list(cfgs)
    if not cfgs or len({population_key(cfg) for cfg in cfgs}) > 1 or population_key(cfgs[0]) is None:
        raise SignsError("cfgs must be one or more TrainConfigs that share minibatch_size, "
                         "num_epochs, seed and preprocess, without conv_channels or augment",
                         argument="cfgs")
    K = len(cfgs)
    run_dirs = [None] * K if run_dirs is None else list(run_dirs)
    notes = [None] * K if notes is None else list(notes)
    hooks = [None] * K if on_epoch is None else list(on_epoch)
    if not len(run_dirs) == len(notes) == len(hooks) == K:
        raise SignsError(f"run_dirs, notes and on_epoch must hold one entry per config ({K}), got "
                         f"{len(run_dirs)}, {len(notes)} and {len(hooks)}", argument="run_dirs")
    check_int("eval_every", eval_every, 0)
    check_int("checkpoint_every", checkpoint_every, 0)
    eval_sets = dict(eval_sets or {})
    train.check_inputs(cfgs[0], X_train, Y_train, eval_sets)
    (n_x, m), n_y = X_train.shape, Y_train.shape[0]
    session_config = devices.session_config(device, threads)

    state = _initial_values(cfgs, n_x, n_y, session_config)  # per trial: name -> value
    nets = [epochs.Net(cfg, None, hook, share=1 / K) for cfg, hook in zip(cfgs, hooks)]
    results = [None] * K
    planned, device_name = cfgs[0].num_epochs, devices.describe(device)
    with contextlib.ExitStack() as owner:  # each run folder is ours until the population ends
        for net, d, note in zip(nets, run_dirs, notes):
            if d is not None:
                net.run_dir = owner.enter_context(train.open_run(d, net.cfg, NAME, device, note))[0]
        owner.enter_context(epochs.summary_writers(nets))
        while epochs.going(nets) and len(epochs.going(nets)[0].costs) < planned:
            # A segment: the trials going, in one graph, until a hook stops one (or the end).
            live = [k for k, net in enumerate(nets) if net.ended is None]
            graph = tf.Graph()
            with graph.as_default():
                spec = build_graph([cfgs[k] for k in live], n_x, n_y, m)
            with tf.Session(graph=graph, config=session_config) as sess, graph.as_default():
                sess.run(tf.global_variables_initializer())
                for variables, k in zip(spec["state"], live):
                    for name, value in state[k].items():
                        variables[name].load(value, sess)
                ENGINE.load_data(sess, spec, X_train, Y_train)
                segment = [nets[k] for k in live]

                def step(epoch):
                    minibatch_costs = ENGINE.run_epoch(
                        sess, spec, cfgs[0], epoch, X_train, Y_train,
                        [train.learning_rate_at(net.cfg, epoch) for net in segment])
                    return [epoch_cost(minibatch_costs[:, i], m, net.cfg.minibatch_size)
                            for i, net in enumerate(segment)]

                def measure(name):
                    X, Y = eval_sets[name]
                    return sess.run(spec["accuracies"], {spec["X"]: X, spec["Y"]: Y})

                def save(epochs_done, saving):
                    for net in saving:
                        _save(sess, spec, segment.index(net), net, epochs_done)

                epochs.run(segment, step, measure, save, planned, eval_sets, NAME, eval_every,
                           checkpoint_every, progress, f"population of {len(live)}",
                           population=K)
                for i, net in enumerate(segment):
                    if net.ended is None and len(net.costs) == planned:
                        results[live[i]] = {
                            "costs": net.costs, "metrics": {**net.metrics, "device": device_name},
                            "parameters": sess.run(spec["model_variables"][i])}
                        epochs.finish_run(net, results[live[i]])
                if epochs.going(nets) and len(epochs.going(nets)[0].costs) < planned:
                    for k, values in zip(live, sess.run(spec["state"])):  # for the next segment
                        state[k] = values
    return [net.ended or result for net, result in zip(nets, results)]


def _save(sess, spec, i, net, epochs_done):
    """Trial i of the graph's costs and checkpoint, named by its epochs as ``train.train``'s;
    only the newest checkpoint is kept."""
    if net.run_dir is None:
        return
    prefixes = [""] * len(spec["save"])
    prefixes[i] = f"{runs.checkpoint_prefix(net.run_dir)}-{epochs_done}"
    before = runs.latest_checkpoint(net.run_dir)
    try:
        runs.write_costs(net.run_dir, net.costs)
        sess.run(spec["save"][i], {spec["checkpoint_prefix"]: prefixes})
        if before is not None and before[1] != epochs_done:
            for old in Path(before[0]).parent.glob(Path(before[0]).name + ".*"):
                old.unlink(missing_ok=True)
    except (OSError, tf.errors.OpError) as e:
        saved = before[1] if before is not None else 0
        raise runs.write_failure(net.run_dir, e, saved) from None
