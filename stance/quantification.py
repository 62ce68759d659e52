"""Quantification: the share of each label in a set of texts, corrected for a classifier's
errors. Pure numpy.

Methods (``k`` labels; ``P`` the ``(n, k)`` predicted probabilities of the texts):

* ``cc`` — classify and count: the share of texts whose most probable label is each label.
* ``pcc`` — probabilistic classify and count: the mean of the probabilities.
* ``acc`` — adjusted classify and count (Forman): solve ``q = R^T p`` for the true shares
  ``p``, where ``q`` are the cc shares and ``R[i, j] = P(predicted j | true i)`` was measured
  on labelled texts.
* ``pacc`` — probabilistic adjusted count (Bella et al.): the same with the pcc shares and
  ``M[i, j] = E[probability of j | true i]``.
* ``em`` — Saerens, Latinne & Decaestecker's EM: re-weight each text's probabilities by the
  ratio of the new to the old label prior until the prior stops changing.

The adjusted systems are solved as constrained least squares on the simplex (shares ``>= 0``
summing to 1; :func:`simplex_lstsq`, exact, by trying every support), which equals the plain
inverse whenever that lies in the simplex and stays defined when ``R`` is singular.
:func:`clip_to_simplex` is the simpler clip-and-renormalise repair, also offered.

Every function takes batches: a leading axis of bootstrap replicates is allowed throughout, so
intervals cost a few vectorised passes (see :func:`bootstrap`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np

from stance.errors import ConfigError

METHODS: tuple[str, ...] = ("cc", "pcc", "acc", "pacc", "em")
"""Every method, in the order the literature introduced them."""
ADJUSTED: tuple[str, ...] = ("acc", "pacc", "em")
"""The methods that need labelled data (a confusion) to correct with."""
SOLVERS: tuple[str, ...] = ("simplex", "clip")

EM_TOLERANCE = 1e-6
EM_MAX_ITER = 1000
QUANTIZE_ABOVE = 5000
"""Above this many texts the bootstrap resamples probabilities rounded to 0.01 (at most 5,151
distinct rows for three labels), so its cost does not grow with the corpus."""


# Simplex repairs ----------------------------------------------------------------------------


def clip_to_simplex(shares: np.ndarray) -> np.ndarray:
    """Clip to ``[0, 1]`` and renormalise to sum 1 (all-zero rows become uniform).

    >>> clip_to_simplex(np.array([0.7, -0.1, 0.5])).round(3).tolist()
    [0.583, 0.0, 0.417]
    """
    values = np.clip(np.asarray(shares, dtype=float), 0.0, 1.0)
    total = values.sum(axis=-1, keepdims=True)
    k = values.shape[-1]
    safe = np.where(total > 0, total, 1.0)
    return np.where(total > 0, values / safe, 1.0 / k)


def _supports(k: int) -> list[tuple[int, ...]]:
    return [s for size in range(1, k + 1) for s in combinations(range(k), size)]


def simplex_lstsq(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``argmin ||a p - b||`` over the probability simplex, for each of a batch of systems.

    Exact: the optimum restricted to its support is the equality-constrained least-squares
    solution there, so trying every support (7 for three labels) and keeping the best feasible
    one finds it. Singular systems are solved by pseudo-inverse (the minimum-norm solution).

    Args:
        a: ``(..., m, k)`` matrices.
        b: ``(..., m)`` right-hand sides.

    Returns:
        ``(..., k)`` shares, each ``>= 0`` and summing to 1.

    >>> a = np.array([[0.8, 0.1], [0.2, 0.9]])  # columns: P(predicted | true)
    >>> simplex_lstsq(a, a @ np.array([0.3, 0.7])).round(6).tolist()
    [0.3, 0.7]
    >>> simplex_lstsq(a, np.array([0.05, 0.95])).round(6).tolist()  # beyond the simplex
    [0.0, 1.0]
    """
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    k = a.shape[-1]
    if k > 10:
        raise ConfigError(f"simplex_lstsq enumerates supports; {k} labels is too many")
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-1])
    a = np.broadcast_to(a, (*batch, *a.shape[-2:]))
    b = np.broadcast_to(b, (*batch, b.shape[-1]))
    best = np.full(batch, np.inf)
    out = np.zeros((*batch, k))
    for support in _supports(k):
        idx = list(support)
        s = len(idx)
        a_s = a[..., idx]  # (..., m, s)
        kkt = np.zeros((*batch, s + 1, s + 1))
        kkt[..., :s, :s] = 2.0 * np.swapaxes(a_s, -1, -2) @ a_s
        kkt[..., :s, s] = 1.0
        kkt[..., s, :s] = 1.0
        rhs = np.zeros((*batch, s + 1))
        rhs[..., :s] = 2.0 * (np.swapaxes(a_s, -1, -2) @ b[..., None])[..., 0]
        rhs[..., s] = 1.0
        solution = (np.linalg.pinv(kkt) @ rhs[..., None])[..., 0]
        p_s = solution[..., :s]
        feasible = (p_s >= -1e-10).all(axis=-1) & (np.abs(p_s.sum(axis=-1) - 1.0) < 1e-6)
        residual = ((a_s @ p_s[..., None])[..., 0] - b) ** 2
        residual = residual.sum(axis=-1)
        better = feasible & (residual < best - 1e-15)
        if better.any():
            best = np.where(better, residual, best)
            full = np.zeros((*batch, k))
            full[..., idx] = np.clip(p_s, 0.0, None)
            out = np.where(better[..., None], full, out)
    total = out.sum(axis=-1, keepdims=True)
    return out / np.where(total > 0, total, 1.0)


def solve_adjustment(
    rates: np.ndarray, observed: np.ndarray, solver: str = "simplex"
) -> np.ndarray:
    """The true shares ``p`` with ``observed = rates^T p`` (rows of ``rates``: true labels).

    ``solver="simplex"`` is :func:`simplex_lstsq`; ``"clip"`` solves by pseudo-inverse and then
    applies :func:`clip_to_simplex`.

    >>> rates = np.array([[0.9, 0.1], [0.3, 0.7]])
    >>> solve_adjustment(rates, np.array([0.6, 0.4])).round(6).tolist()
    [0.5, 0.5]
    """
    rates = np.asarray(rates, dtype=float)
    a = np.swapaxes(rates, -1, -2)
    if solver == "simplex":
        return simplex_lstsq(a, observed)
    if solver == "clip":
        raw = (np.linalg.pinv(a) @ np.asarray(observed, dtype=float)[..., None])[..., 0]
        return clip_to_simplex(raw)
    raise ConfigError(f"unknown solver {solver!r}; use one of {SOLVERS}")


# Confusion ----------------------------------------------------------------------------------


def one_hot(indices: np.ndarray, k: int) -> np.ndarray:
    """``(n,)`` label indices as ``(n, k)`` indicator rows."""
    return np.eye(k)[np.asarray(indices, dtype=int)]


def row_rates(matrix: np.ndarray, totals: np.ndarray | None = None) -> np.ndarray:
    """Normalise each row (a true label) to sum 1; a row with nothing in it becomes the
    identity row (that label is assumed recognised perfectly, as QuaPy does).

    >>> row_rates(np.array([[8, 2], [0, 0]])).tolist()
    [[0.8, 0.2], [0.0, 1.0]]
    """
    matrix = np.asarray(matrix, dtype=float)
    k = matrix.shape[-1]
    if totals is None:
        totals = matrix.sum(axis=-1)
    totals = np.asarray(totals, dtype=float)[..., None]
    empty = totals <= 0
    normalised = matrix / np.where(empty, 1.0, totals)
    return np.where(empty, np.eye(k), normalised)


@dataclass(frozen=True)
class Confusion:
    """What a correction is measured from: a classifier's behaviour on labelled texts.

    Attributes:
        counts: ``(k, k)`` texts by true label (rows) and predicted label (columns).
        sums: ``(k, k)`` per true label (rows), the summed probability of each label (columns);
            ``sums / counts.sum(1)`` are the mean probabilities.
        squares: ``(k, k)`` like ``sums``, of the squared probabilities (optional; it lets the
            bootstrap use the real spread of the probabilities instead of an upper bound).
        labels: Per-text true label indices, when the texts themselves are at hand (a gold
            sample); then the bootstrap resamples texts.
        probabilities: Per-text probabilities, with ``labels``.
    """

    counts: np.ndarray
    sums: np.ndarray
    squares: np.ndarray | None = None
    labels: np.ndarray | None = None
    probabilities: np.ndarray | None = None

    @classmethod
    def from_predictions(
        cls, labels: Sequence[int] | np.ndarray, probabilities: np.ndarray
    ) -> Confusion:
        """From true label indices and predicted probabilities of labelled texts."""
        y = np.asarray(labels, dtype=int)
        probs = np.asarray(probabilities, dtype=float)
        k = probs.shape[1]
        truth = one_hot(y, k)
        predicted = one_hot(probs.argmax(axis=1), k)
        return cls(truth.T @ predicted, truth.T @ probs, truth.T @ probs**2, y, probs)

    @classmethod
    def from_summary(
        cls,
        counts: np.ndarray,
        mean_probabilities: np.ndarray,
        mean_squared_probabilities: np.ndarray | None = None,
    ) -> Confusion:
        """From stored numbers: counts (rows true, columns predicted), mean probabilities and,
        optionally, mean squared probabilities."""
        counts = np.asarray(counts, dtype=float)
        totals = counts.sum(axis=1, keepdims=True)
        means = np.asarray(mean_probabilities, dtype=float)
        squares = None
        if mean_squared_probabilities is not None:
            squares = np.asarray(mean_squared_probabilities, dtype=float) * totals
        return cls(counts, means * totals, squares)

    def summary(self) -> Confusion:
        """The same numbers without the texts (as a model directory stores them)."""
        totals = self.counts.sum(axis=1, keepdims=True)
        squares = None if self.squares is None else row_rates(self.squares, totals[:, 0])
        return Confusion.from_summary(self.counts, self.mean_probabilities, squares)

    @property
    def n(self) -> int:
        return round(float(self.counts.sum()))

    @property
    def rates(self) -> np.ndarray:
        """``R[i, j] = P(predicted j | true i)``."""
        return row_rates(self.counts)

    @property
    def mean_probabilities(self) -> np.ndarray:
        """``M[i, j] = mean probability of j over texts of true label i``."""
        return row_rates(self.sums, self.counts.sum(axis=-1))

    @property
    def prior(self) -> np.ndarray:
        """EM's reference prior: the label shares the model's probabilities are relative to.

        With the labelled texts at hand, it is the prior under which re-weighting their
        probabilities by ``true shares / prior`` makes them average to their true shares
        (:func:`reference_prior`). From stored numbers only, it is their mean probability, as
        QuaPy's EMQ with ``exact_train_prev=False`` uses. (The labelled texts' true shares are a
        poor reference for a model trained with balanced class weights, whose probabilities are
        not relative to them.)
        """
        if self.labels is not None and self.probabilities is not None:
            k = self.counts.shape[0]
            return reference_prior(self.probabilities, one_hot(self.labels, k))
        return _implied_prior(self.sums)

    def spread(self) -> np.ndarray:
        """Per true label, the spread of the probabilities relative to its largest possible
        value (1: as if every text's probabilities were one-hot; from ``squares``)."""
        k = self.counts.shape[0]
        if self.squares is None:
            return np.ones(k)
        totals = self.counts.sum(axis=1)
        means = self.mean_probabilities
        second = row_rates(self.squares, totals)
        second = np.where(totals[:, None] > 0, second, means)
        variance = np.clip(second - means**2, 0.0, None).sum(axis=1)
        bound = (means * (1.0 - means)).sum(axis=1)
        ratio = np.where(bound > 0, variance / np.where(bound > 0, bound, 1.0), 1.0)
        return np.clip(ratio, 0.0, 1.0)

    def replicates(
        self, rng: np.random.Generator, n_boot: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Bootstrap replicates ``(rates, mean_probabilities, prior)``, each with a leading
        axis of ``n_boot``.

        With the texts at hand they are resampled with replacement. From stored numbers only,
        the number of texts of each true label is drawn multinomially from the total, the
        predictions of each label multinomially from its row, and each row of mean
        probabilities as the mean of that many one-hot draws shrunk towards the row's mean by
        the square root of :meth:`spread` — which gives the mean of probabilities with that
        spread its right covariance. Without squared probabilities stored the spread is taken
        as 1, the largest possible, and this part of the interval errs on the wide side.
        """
        k = self.counts.shape[0]
        if self.labels is not None and self.probabilities is not None:
            n = len(self.labels)
            weights = rng.multinomial(n, np.full(n, 1.0 / n), size=n_boot).astype(float)
            truth = one_hot(self.labels, k)
            predicted = one_hot(self.probabilities.argmax(axis=1), k)
            counts = np.einsum("bn,ni,nj->bij", weights, truth, predicted)
            sums = np.einsum("bn,ni,nj->bij", weights, truth, self.probabilities)
            row_totals = counts.sum(axis=-1)
            prior = reference_prior(self.probabilities, truth, weights)
            return row_rates(counts), row_rates(sums, row_totals), prior
        else:
            totals = self.counts.sum(axis=1)
            n = round(float(totals.sum()))
            drawn = rng.multinomial(n, totals / max(totals.sum(), 1e-12), size=n_boot)
            counts = np.zeros((n_boot, k, k))
            sums = np.zeros((n_boot, k, k))
            rates = self.rates
            means = self.mean_probabilities
            shrink = np.sqrt(self.spread())
            for i in range(k):
                row = means[i] / means[i].sum()
                draws = rng.multinomial(drawn[:, i], row) / np.maximum(drawn[:, i], 1)[:, None]
                mean = row + shrink[i] * (draws - row)
                counts[:, i, :] = rng.multinomial(drawn[:, i], rates[i])
                sums[:, i, :] = mean * drawn[:, i][:, None]
        row_totals = counts.sum(axis=-1)
        return row_rates(counts), row_rates(sums, row_totals), _implied_prior(sums)


def reference_prior(
    probabilities: np.ndarray,
    truth: np.ndarray,
    weights: np.ndarray | None = None,
    *,
    tolerance: float = 1e-9,
    max_iter: int = 2000,
) -> np.ndarray:
    """The prior ``π`` a classifier's probabilities are relative to, from labelled texts: the
    one for which re-weighting each text's probabilities by ``t / π`` (``t`` the texts' true
    label shares) makes them average to ``t``. Found as the stationary point of the concave
    ``Σ log(p·r) − n Σ t log r`` with ``r = t / π``, by a multiplicative fixed-point iteration.

    Args:
        probabilities: ``(n, k)`` probabilities of the labelled texts.
        truth: ``(n, k)`` one-hot true labels.
        weights: ``(B, n)`` resampling counts, or ``None``.

    >>> probs = np.array([[0.8, 0.2], [0.6, 0.4], [0.3, 0.7], [0.1, 0.9]])
    >>> truth = np.array([[1, 0], [1, 0], [0, 1], [0, 1]])
    >>> reference_prior(probs, truth).round(3).tolist()
    [0.429, 0.571]
    """
    probs = np.asarray(probabilities, dtype=float)
    w = np.ones((1, len(probs))) if weights is None else np.asarray(weights, dtype=float)
    shares = w @ np.asarray(truth, dtype=float)  # (B, k) labelled counts
    shares = shares / shares.sum(axis=1, keepdims=True)
    shares = shares + 1e-4  # a label no labelled text has: smooth as QuaPy does
    shares /= shares.sum(axis=1, keepdims=True)
    n = w.sum(axis=1, keepdims=True)
    r = np.ones_like(shares)
    for _ in range(max_iter):
        denominator = np.maximum(probs @ r.T, 1e-300).T  # (B, n)
        new = n * shares / np.maximum((w / denominator) @ probs, 1e-300)
        new /= new.sum(axis=1, keepdims=True)
        done = np.abs(new - r).max() < tolerance
        r = new
        if done:
            break
    prior = shares / r
    prior /= prior.sum(axis=1, keepdims=True)
    return prior[0] if weights is None else prior


def _implied_prior(sums: np.ndarray) -> np.ndarray:
    total = sums.sum(axis=-2)
    return total / np.maximum(total.sum(axis=-1, keepdims=True), 1e-12)


# The methods --------------------------------------------------------------------------------


def _weighted_mean(values: np.ndarray, weights: np.ndarray | None) -> np.ndarray:
    if weights is None:
        return values.mean(axis=0)
    return (weights @ values) / weights.sum(axis=-1, keepdims=True)


def classify_and_count(probabilities: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """The share of texts whose most probable label is each label (``weights``: ``(B, n)``
    resampling counts give ``(B, k)``).

    >>> classify_and_count(np.array([[0.6, 0.4], [0.2, 0.8], [0.9, 0.1]])).round(3).tolist()
    [0.667, 0.333]
    """
    probs = np.asarray(probabilities, dtype=float)
    return _weighted_mean(one_hot(probs.argmax(axis=1), probs.shape[1]), weights)


def probabilistic_classify_and_count(
    probabilities: np.ndarray, weights: np.ndarray | None = None
) -> np.ndarray:
    """The mean probability of each label.

    >>> probabilistic_classify_and_count(np.array([[0.6, 0.4], [0.2, 0.8]])).round(3).tolist()
    [0.4, 0.6]
    """
    return _weighted_mean(np.asarray(probabilities, dtype=float), weights)


def _em_step(
    shares: np.ndarray, probs: np.ndarray, prior: np.ndarray, w: np.ndarray, wsum: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """One EM step for a batch: the new shares, and the log-likelihood of ``shares``."""
    ratio = shares / prior  # (b, k)
    adjusted = probs[None, :, :] * ratio[:, None, :]  # (b, n, k)
    total = np.maximum(adjusted.sum(axis=2, keepdims=True), 1e-300)
    adjusted /= total
    new = np.einsum("bn,bnk->bk", w, adjusted) / wsum
    loglik = np.einsum("bn,bn->b", w, np.log(total[..., 0]))
    return new, loglik


def expectation_maximization(
    probabilities: np.ndarray,
    prior: np.ndarray,
    weights: np.ndarray | None = None,
    *,
    tolerance: float = EM_TOLERANCE,
    max_iter: int = EM_MAX_ITER,
) -> np.ndarray:
    """Saerens et al.'s EM: the label shares under which the re-weighted probabilities agree
    with themselves (the maximum-likelihood shares under prior shift).

    The fixed-point iteration is accelerated with SQUAREM (Varadhan & Roland 2008): each cycle
    takes two EM steps, extrapolates along them, and keeps the extrapolation only if it raises
    the likelihood, so it converges to the same shares as plain EM in far fewer passes.

    Args:
        probabilities: ``(n, k)`` probabilities the classifier gives under ``prior``.
        prior: ``(k,)`` or ``(B, k)`` label shares the probabilities are relative to (see
            :attr:`Confusion.prior`).
        weights: ``(B, n)`` resampling counts for ``B`` bootstrap replicates, or ``None``.

    >>> probs = np.array([[0.9, 0.1], [0.6, 0.4], [0.3, 0.7]])
    >>> expectation_maximization(probs, np.array([0.5, 0.5])).round(3).tolist()
    [0.958, 0.042]
    """
    probs = np.asarray(probabilities, dtype=float)
    k = probs.shape[1]
    prior = np.asarray(prior, dtype=float)
    single = weights is None
    w = np.ones((1, len(probs))) if weights is None else np.asarray(weights, dtype=float)
    batch = w.shape[0]
    prior = np.broadcast_to(prior, (batch, k)).copy()
    if (prior <= 0).any():  # a label absent from the labelled sample: smooth as QuaPy does
        prior = prior + 1e-4
        prior /= prior.sum(axis=1, keepdims=True)
    wsum = w.sum(axis=1, keepdims=True)
    shares = prior.copy()
    active = np.arange(batch)
    for _ in range(max_iter // 3 + 1):
        a = active
        theta0 = shares[a]
        theta1, _ = _em_step(theta0, probs, prior[a], w[a], wsum[a])
        theta2, loglik1 = _em_step(theta1, probs, prior[a], w[a], wsum[a])
        r = theta1 - theta0
        v = theta2 - theta1 - r
        rn, vn = np.linalg.norm(r, axis=1), np.linalg.norm(v, axis=1)
        alpha = np.where(vn > 0, -rn / np.where(vn > 0, vn, 1.0), -1.0)
        alpha = np.minimum(alpha, -1.0)[:, None]
        jump = theta0 - 2 * alpha * r + alpha**2 * v
        inside = (jump > 0).all(axis=1)  # an extrapolation out of the simplex is not taken
        jump = np.where(inside[:, None], jump, theta2)
        jump /= jump.sum(axis=1, keepdims=True)
        theta3, loglik_jump = _em_step(jump, probs, prior[a], w[a], wsum[a])
        better = (inside & (loglik_jump >= loglik1))[:, None]
        new = np.where(better, theta3, theta2)
        shares[a] = new
        still = np.abs(new - theta0).max(axis=1) > tolerance
        if not still.any():
            break
        active = a[still]
    return shares[0] if single else shares


def estimate(
    method: str,
    probabilities: np.ndarray,
    confusion: Confusion | None = None,
    *,
    solver: str = "simplex",
) -> np.ndarray:
    """One method's shares for one set of texts.

    Raises:
        ValueError: an unknown method, or an adjusted one without ``confusion``.

    >>> conf = Confusion.from_summary([[80, 20], [10, 90]], [[0.7, 0.3], [0.2, 0.8]])
    >>> probs = np.array([[0.9, 0.1]] * 45 + [[0.1, 0.9]] * 55)  # cc: 45 % label 0
    >>> estimate("acc", probs, conf).round(4).tolist()  # 0.45 = 0.8 p + 0.1 (1 - p)
    [0.5, 0.5]
    """
    probs = np.asarray(probabilities, dtype=float)
    if method == "cc":
        return classify_and_count(probs)
    if method == "pcc":
        return probabilistic_classify_and_count(probs)
    if method not in ADJUSTED:
        raise ConfigError(f"unknown method {method!r}; use one of {METHODS}")
    if confusion is None:
        raise ConfigError(f"method {method!r} needs a confusion measured on labelled texts")
    if method == "acc":
        return solve_adjustment(confusion.rates, classify_and_count(probs), solver)
    if method == "pacc":
        return solve_adjustment(
            confusion.mean_probabilities, probabilistic_classify_and_count(probs), solver
        )
    return expectation_maximization(probs, confusion.prior)


# Bootstrap ----------------------------------------------------------------------------------


def compress(
    probabilities: np.ndarray, quantize_above: int = QUANTIZE_ABOVE
) -> tuple[np.ndarray, np.ndarray]:
    """Distinct probability rows and their counts (rounded to 0.01 and renormalised above
    ``quantize_above`` texts), so resampling costs at most a few thousand rows."""
    probs = np.asarray(probabilities, dtype=float)
    if len(probs) > quantize_above:
        grid = np.round(probs * 100.0)
        grid[:, -1] = 100.0 - grid[:, :-1].sum(axis=1)
        for i in np.flatnonzero(grid[:, -1] < 0):  # rounding up overshot: take it back
            top = int(grid[i, :-1].argmax())
            grid[i, top] += grid[i, -1]
            grid[i, -1] = 0.0
        probs = grid / 100.0
    rows, counts = np.unique(probs, axis=0, return_counts=True)
    return rows, counts.astype(float)


def bootstrap(
    method: str,
    probabilities: np.ndarray,
    confusion: Confusion | None,
    replicates: tuple[np.ndarray, np.ndarray, np.ndarray] | None,
    rng: np.random.Generator,
    n_boot: int,
    *,
    solver: str = "simplex",
    chunk: int = 100,
) -> np.ndarray:
    """``(n_boot, k)`` replicate shares: the texts resampled with replacement and, for the
    adjusted methods, the confusion replaced by its replicates (``Confusion.replicates``,
    drawn once and shared by every group)."""
    rows, counts = compress(probabilities)
    n = int(counts.sum())
    weights = rng.multinomial(n, counts / counts.sum(), size=n_boot).astype(float)
    k = rows.shape[1]
    if method == "cc":
        return classify_and_count(rows, weights)
    if method == "pcc":
        return probabilistic_classify_and_count(rows, weights)
    if method not in ADJUSTED:
        raise ConfigError(f"unknown method {method!r}; use one of {METHODS}")
    if replicates is None:
        raise ConfigError(f"method {method!r} needs a confusion measured on labelled texts")
    rates, means, prior = replicates
    if method == "acc":
        return solve_adjustment(rates, classify_and_count(rows, weights), solver)
    if method == "pacc":
        return solve_adjustment(means, probabilistic_classify_and_count(rows, weights), solver)
    out = np.zeros((n_boot, k))
    for start in range(0, n_boot, chunk):
        part = slice(start, min(start + chunk, n_boot))
        out[part] = expectation_maximization(rows, prior[part], weights[part])
    return out


def percentile_interval(
    replicates: np.ndarray, level: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """The equal-tailed percentile interval of bootstrap replicates, per label."""
    tail = (1.0 - level) / 2.0 * 100.0
    low, high = np.percentile(replicates, [tail, 100.0 - tail], axis=0)
    return low, high


def z_value(level: float = 0.95) -> float:
    """The standard normal quantile for a two-sided ``level`` interval (1.96 for 0.95)."""
    from statistics import NormalDist

    return NormalDist().inv_cdf(0.5 + level / 2.0)


def labelled_needed(half_width: float, rates: np.ndarray | None = None, level: float = 0.95) -> int:
    """About how many texts, drawn at random from the corpus and labelled, pin every share to
    within ``± half_width``: the worst-case binomial size ``z² · 0.25 / h²``, times the factor by
    which the correction ``rates`` (``None``: none) inflates the variance of the estimate
    (the largest row sum of squares of its inverse). An approximation, for planning.

    >>> labelled_needed(0.05)
    385
    """
    if not 0 < half_width < 1:
        raise ConfigError(f"half_width must be between 0 and 1, got {half_width}")
    inflation = 1.0
    if rates is not None:
        inverse = np.linalg.pinv(np.swapaxes(np.asarray(rates, dtype=float), -1, -2))
        inflation = max(1.0, float((inverse**2).sum(axis=1).max()))
    return int(np.ceil(z_value(level) ** 2 * 0.25 * inflation / half_width**2))
