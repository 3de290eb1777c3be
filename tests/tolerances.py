"""Tolerances for comparing float32 results, derived from float32 rounding rather than measured."""
import numpy as np

EPS = float(np.finfo(np.float32).eps)  # 2**-23: one ulp of float32 at 1.0


def softmax_atol(logits, n):
    """How far two float32 evaluations of ``softmax(logits)`` may differ when their kernels
    add the same products in a different order (another GEMM blocking or SIMD width, a
    matrix-vector kernel for one column, another CPU or a GPU).

    A sum of ``n`` float32 terms carries rounding errors that add up like a random walk,
    about sqrt(n) ulps of its magnitude (Higham, "Accuracy and Stability of Numerical
    Algorithms", ch. 3); the logits carry that relative error from their longest sums.
    Two evaluations differ by at most twice that, and a softmax output moves by at most
    half the largest change of its inputs (|dp_i| <= 2 p_i (1 - p_i) max_j |dz_j|).

    Args:
        logits: (C, m) logits, or a bound on their magnitude.
        n: length of the longest sum behind them (n_x = 12288 for SIGNS' first layer).
    Returns:
        the absolute tolerance for the probabilities: sqrt(n) ulps of max |logit|.
    """
    per_evaluation = np.sqrt(n) * EPS * float(np.abs(logits).max())
    return 2 * per_evaluation / 2
