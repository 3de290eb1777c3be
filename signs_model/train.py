"""Training: build the graph, run the epochs through an engine, write the run folder.

The graph (``build_graph``) is the network of the config, its cost and its
optimizer; an engine (``engines``: the course's feed loop, or whole epochs in
the graph) runs the epochs; the trainer (``train``) checks the inputs, resumes,
checkpoints, evaluates, reports to TensorBoard and writes the run folder
(``runs``). The epochs themselves are ``epochs.run``, which population training shares:
Ctrl-C finishes the epoch, saves and stops; so does the caller's ``on_epoch``
hook when it asks to (a search pruning a hopeless trial: ``errors.Stopped``).

Dropout masks are drawn statelessly from (tf_seed, step), so they depend on
the step, not on the session: a resumed run draws the masks an uninterrupted
one would. The run folder (layout, reading, writing, finishing) is ``runs``.
"""
import contextlib

import tensorflow.compat.v1 as tf

from . import devices, epochs, network, runs
from .atomic import failpoint
from .config import HYPERPARAMETERS
from .engines import ENGINES, epoch_cost
from .errors import SignsError, check_int


def seeded_network(cfg, n_x, n_y):
    """``network.create_network`` under the graph-level seed ``cfg.tf_seed``: the initial
    weights of every run of ``cfg`` (its initializers draw from this seed and nothing else)."""
    tf.set_random_seed(cfg.tf_seed)
    return network.create_network(cfg, n_x, n_y)


def build_graph(cfg, n_x, n_y, engine=None, m=None):
    """Build the training graph in the current default graph.

    Args:
        cfg: TrainConfig.
        n_x, n_y: input features and classes.
        engine, m: an engine from ``engines.ENGINES`` and the number of training
            examples, to add what that engine runs (the fast engine's epoch
            loop); None builds the graph the feed loop and evaluation need.
    Returns:
        dict of the tensors and ops the loops need (like CS230's ``model_spec``).
    """
    X, Y = network.create_placeholders(n_x, n_y)
    training = tf.placeholder_with_default(False, (), name="training")
    learning_rate = tf.placeholder(tf.float32, (), name="learning_rate")
    # The optimizer step about to be taken (epoch * minibatches per epoch + k): it seeds dropout.
    step = tf.placeholder_with_default(tf.constant(0, tf.int64), (), name="step")
    parameters = seeded_network(cfg, n_x, n_y)

    def cost_of(X, Y, training, step):
        seed = tf.stack([tf.constant(cfg.tf_seed, tf.int64), step])
        ZL = network.logits(cfg, X, parameters, training, seed)
        return ZL, network.compute_cost(ZL, Y, parameters, cfg.l2_lambda, cfg.label_smoothing)

    ZL, cost = cost_of(X, Y, training, step)
    model_variables = tf.global_variables()  # weights, BN's gamma/beta and moving averages
    optimizer = network.make_optimizer(cfg.optimizer, learning_rate, cfg.beta, cfg.beta1,
                                       cfg.beta2, cfg.epsilon)
    with tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS)):
        train_op = optimizer.minimize(cost)
    correct = tf.equal(tf.argmax(ZL), tf.argmax(Y))
    spec = {
        "X": X, "Y": Y, "training": training, "learning_rate": learning_rate, "step": step,
        "ZL": ZL, "cost": cost, "train_op": train_op,
        "accuracy": tf.reduce_mean(tf.cast(correct, tf.float32)),
        "model_variables": model_variables,
    }
    if engine is not None:
        spec.update(engine.build(cfg, n_x, n_y, m, cost_of, optimizer))
    # Relative paths in the checkpoint index keep a run folder movable.
    spec["saver"] = tf.train.Saver(max_to_keep=2, save_relative_paths=True)
    return spec


def learning_rate_at(cfg, epoch):
    """The lecture's decay, alpha = alpha0 / (1 + decay_rate * epoch_num), epoch_num counted from 1."""
    return cfg.learning_rate / (1.0 + cfg.decay_rate * (epoch + 1))


def check_inputs(cfg, X_train, Y_train, eval_sets=None):
    """Shapes agree and the minibatch fits the data: else one clear error."""
    for name, (X, Y) in {"training": (X_train, Y_train), **(eval_sets or {})}.items():
        if X.ndim != 2 or Y.ndim != 2 or X.shape[1] != Y.shape[1]:
            raise SignsError(f"{name} data: X has shape {X.shape} and Y {Y.shape}; "
                             f"expected (n_x, m) and (n_y, m) with the same m")
        if (X.shape[0], Y.shape[0]) != (X_train.shape[0], Y_train.shape[0]):
            raise SignsError(f"{name} data: {X.shape[0]} features and {Y.shape[0]} classes; "
                             f"expected {X_train.shape[0]} and {Y_train.shape[0]} as in training")
    if cfg.minibatch_size > X_train.shape[1]:
        raise SignsError(f"minibatch_size must be at most the {X_train.shape[1]} training "
                         f"examples, got {cfg.minibatch_size}", argument="minibatch_size")


def train(cfg, X_train, Y_train, eval_sets=None, run_dir=None, engine="fast", device="auto",
          resume=False, checkpoint_every=100, eval_every=50, print_every=None, progress=True,
          threads=None, notes=None, on_epoch=None):
    """Train the network of ``cfg`` and, with ``run_dir``, write the run folder.

    Args:
        cfg: TrainConfig; num_epochs is the total number of epochs (on resume,
            including those already done: ``resume_config`` computes it).
        X_train (n_x, m) float32 in [0, 1], Y_train (n_y, m) one-hot.
        eval_sets: {"train": (X, Y), "dev": (X, Y), "test": (X, Y)}: accuracies
            reported as ``<name>_accuracy`` (and to TensorBoard).
        run_dir: folder for params.json, costs.csv, checkpoints, ... (see
            ``runs``); None keeps everything in memory. A folder that holds a
            run with no checkpoint yet is started again.
        engine: "fast" (in-graph epochs) or "feed" (the course's feed_dict loop).
        device: "cpu", "gpu" or "auto".
        resume: continue ``run_dir`` from its last checkpoint (a run whose
            epochs are all done but whose end-of-run files are missing is finished).
        checkpoint_every: epochs between checkpoints (0: only at the end).
        eval_every: epochs between accuracy evaluations for TensorBoard.
        print_every: print "Cost after epoch N" every so many epochs (None: never).
        on_epoch: called after each epoch but the last as ``on_epoch(epochs, accuracy)``,
            with the epochs done so far and ``accuracy(name)`` that measures the
            accuracy on ``eval_sets[name]`` now; returning a reason (a str) stops
            training there: the checkpoint is saved, the run folder gets
            stopped.json and no end-of-run files (resume continues it), and
            ``Stopped`` is raised.
    Returns:
        dict with "costs" (one per epoch, all segments of a resumed run),
        "metrics" and "parameters" (NumPy arrays by variable name).
    """
    if engine not in ENGINES:
        raise SignsError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}",
                         argument="engine")
    engine = ENGINES[engine]
    check_int("checkpoint_every", checkpoint_every, 0)
    check_int("eval_every", eval_every, 0)
    eval_sets = dict(eval_sets or {})
    check_inputs(cfg, X_train, Y_train, eval_sets)
    session_config = devices.session_config(device, threads)

    with contextlib.ExitStack() as owner:  # the run folder is ours until training ends
        costs, done = [], 0
        if run_dir is not None:
            run_dir, costs, done = owner.enter_context(
                open_run(run_dir, cfg, engine.name, device, notes, resume))
        elif resume:
            raise SignsError("resume needs the run folder to continue (run_dir)")
        return _train_open(cfg, X_train, Y_train, eval_sets, run_dir, engine, session_config,
                           costs, done, device, checkpoint_every, eval_every, print_every,
                           progress, on_epoch)


def _train_open(cfg, X_train, Y_train, eval_sets, run_dir, engine, session_config, costs, done,
                device, checkpoint_every, eval_every, print_every, progress, on_epoch):
    """``train`` once its run folder (if any) is open and owned."""
    (n_x, m), n_y = X_train.shape, Y_train.shape[0]
    graph = tf.Graph()
    with graph.as_default():
        spec = build_graph(cfg, n_x, n_y, engine, m)
    net = epochs.Net(cfg, run_dir, on_epoch, costs)
    with tf.Session(graph=graph, config=session_config) as sess, graph.as_default():
        sess.run(tf.global_variables_initializer())
        if done:
            spec["saver"].restore(sess, runs.latest_checkpoint(run_dir)[0])
        engine.load_data(sess, spec, X_train, Y_train)

        def step(epoch):
            minibatch_costs = engine.run_epoch(sess, spec, cfg, epoch, X_train, Y_train,
                                               learning_rate_at(cfg, epoch))
            return [epoch_cost(minibatch_costs, m, cfg.minibatch_size)]

        def measure(name):
            X, Y = eval_sets[name]
            return [sess.run(spec["accuracy"], {spec["X"]: X, spec["Y"]: Y})]

        saved = done

        def save(epochs_done, nets):
            nonlocal saved
            if run_dir is None or not nets:
                return
            try:
                runs.write_costs(run_dir, net.costs)
                # The checkpoint's step is the number of epochs done (runs.load_run reads it back).
                spec["saver"].save(sess, runs.checkpoint_prefix(run_dir), global_step=epochs_done,
                                   write_meta_graph=False)
            except (OSError, tf.errors.OpError) as e:
                raise runs.write_failure(run_dir, e, saved) from None
            saved = epochs_done
            failpoint(f"checkpoint-{epochs_done}")

        with epochs.summary_writers([net], graph), epochs.StopFlag() as stop:
            epochs.run([net], step, measure, save, cfg.num_epochs, eval_sets, engine.name,
                       eval_every, checkpoint_every, progress, f"train {run_dir or ''}".strip(),
                       print_every, stop)
        if net.ended is not None:
            raise net.ended
        parameters = {v.op.name: value for v, value in
                      zip(spec["model_variables"], sess.run(spec["model_variables"]))}
    net.metrics["device"] = devices.describe(device)
    result = {"costs": net.costs, "metrics": net.metrics, "parameters": parameters}
    epochs.finish_run(net, result)
    return result


@contextlib.contextmanager
def open_run(run_dir, cfg, engine, device, notes=None, resume=False):
    """Own ``run_dir`` for the block: a fresh run (refused if it holds one) or a resumed one.

    Writes params.json (the new segment). The folder stays ours
    (``runs.open_for_writing``) until the block ends: a second command on it is
    refused meanwhile.
    Yields:
        (run_dir as a Path, costs of the epochs done, epochs done).
    """
    costs, history, done = [], [], 0
    with runs.open_for_writing(run_dir) as run_dir:
        if resume:
            old, history, done, costs = runs.load_run(run_dir)
            for name in (h.name for h in HYPERPARAMETERS.values() if h.frozen):
                if getattr(cfg, name) != getattr(old, name):
                    raise SignsError(f"a resumed run cannot change {name} ({getattr(old, name)!r} "
                                     f"-> {getattr(cfg, name)!r}): the checkpoint holds the old "
                                     f"network")
            if cfg.num_epochs < done:
                raise SignsError(f"num_epochs must be at least the {done} epochs {run_dir} "
                                 f"already holds, got {cfg.num_epochs}", argument="num_epochs")
        elif runs.has_progress(run_dir):
            raise SignsError(f"run folder {run_dir} already holds a run; continue it (resume) "
                             f"or choose a new folder")
        try:
            runs.start_segment(run_dir, cfg, history, done, engine, device, notes)
        except OSError as e:
            raise runs.write_failure(run_dir, e, done) from None
        yield run_dir, costs, done


def resume_config(run_dir, epochs=None, **changes):
    """The config to continue ``run_dir`` with: its own, with ``changes`` applied.

    Args:
        epochs: further epochs to train; None finishes the epochs the run planned
            (and, if they are all done, writes the end-of-run files it lacks).
        changes: hyperparameters to change (e.g. learning_rate=1e-5).
    Returns:
        TrainConfig whose num_epochs is the run's new total.
    """
    old, _, done, _ = runs.load_run(run_dir)
    if epochs is None:
        if runs.read_metrics(run_dir) is not None:
            raise SignsError(f"{run_dir}: the run already finished its {done} epochs; "
                             f"ask for further epochs to train more")
        planned = old.num_epochs
    else:
        planned = done + epochs
    return old.replace(num_epochs=planned, **changes)
