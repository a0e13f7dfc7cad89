"""The compiled batch steps of one epoch: dense X, and sparse X with every coefficient updated.

Forward, loss, backward and update, batch after batch, in the arithmetic
and order of :func:`skgd._epoch.descend` (see :mod:`skgd._kernel`, which
chooses and calls them). The loss of one element or row and the
optimizers' update are shared with the lazy sparse steps of
:mod:`skgd._lazy_sgd` and :mod:`skgd._lazy_momentum`.
"""

import math

import numpy as np

from ._compiled import (
    _ABSOLUTE,
    _ADAGRAD,
    _ADAM,
    _CRAMMER_SINGER,
    _EPSILON,
    _HINGE,
    _HUBER,
    _LOGISTIC,
    _MODIFIED_HUBER,
    _MOMENTUM,
    _NESTEROV,
    _POISSON,
    _RMSPROP,
    _SGD,
    _SOFTMAX,
    _SQUARED,
    _SQUARED_HINGE,
    _prefetch,
    _prefetch_item,
    jit,
    jit_inline,
)

# The rows are prefetched this many rows before a batch reads them (any order).
_ROWS_AHEAD = 16


@jit
def _element(kind, param, y, raw):
    """Loss and derivative of one output: of the residual, or of the margin ``y * raw``."""
    if kind < _LOGISTIC:
        if kind == _POISSON:
            clipped = min(raw, 500.0)
            slope = math.exp(clipped)
            return slope * (1.0 + (raw - clipped)) - y * raw, slope - y
        r = raw - y
        if kind == _SQUARED:  # (first: the sign's branch below is a coin toss)
            return 0.5 * r * r, r
        a = abs(r)
        sign = 1.0 if r > 0 else (-1.0 if r < 0 else 0.0)
        if kind == _ABSOLUTE:
            return a, sign
        if kind == _HUBER:
            if a <= param:
                return 0.5 * r * r, r
            return param * (a - 0.5 * param), sign * param
        if kind == _EPSILON:
            return max(0.0, a - param), sign if a > param else 0.0
        excess = max(0.0, a - param)  # squared epsilon-insensitive
        return excess * excess, 2.0 * sign * excess
    z = y * raw
    if kind == _LOGISTIC:
        value = math.log1p(math.exp(-z)) if z > 0 else -z + math.log1p(math.exp(z))
        return value, -y / (1.0 + math.exp(z))
    if kind == _HINGE:
        return max(0.0, 1.0 - z), -y if z < 1.0 else 0.0
    if kind == _SQUARED_HINGE:
        excess = max(0.0, 1.0 - z)
        return excess * excess, -2.0 * y * excess
    if kind == _MODIFIED_HUBER:
        if z >= -1.0:
            excess = max(0.0, 1.0 - z)
            return excess * excess, -2.0 * y * excess
        return -4.0 * z, -4.0 * y
    return max(0.0, -z), -y if z <= 0.0 else 0.0  # perceptron


# The dense epoch's copy, inlined by numba: called for every row and output, the call
# cost about 5% of the epoch's compute. The same arithmetic: the same models to the bit.
_element_inlined = jit_inline(_element.py_func) if hasattr(_element, "py_func") else _element


@jit
def _row_loss(kind, param, Y, indexed, i, raw, g):
    """The loss of one row of raw predictions; its derivative goes into ``g``."""
    n_outputs = raw.shape[0]
    if kind == _SOFTMAX:
        label = int(Y[i, 0])
        top = raw[0]
        for k in range(1, n_outputs):  # (not raw.max(): numba compiles it anew, 1-2 s)
            top = max(top, raw[k])
        for k in range(n_outputs):
            g[k] = math.exp(raw[k] - top)
        total = 0.0
        for k in range(n_outputs):  # (a loop of its own: see skgd._compiled.jit)
            total += g[k]
        for k in range(n_outputs):
            g[k] /= total
        g[label] -= 1.0
        return top + math.log(total) - raw[label]
    if kind == _CRAMMER_SINGER:
        label = int(Y[i, 0])
        rival = -1
        for k in range(n_outputs):
            g[k] = 0.0
            if k != label and (rival < 0 or raw[k] > raw[rival]):
                rival = k
        margin = 1.0 + raw[rival] - raw[label]
        if margin > 0:
            g[rival], g[label] = 1.0, -1.0
        return max(0.0, margin)
    total = 0.0
    for k in range(n_outputs):
        if indexed:  # class indices: a -1/+1 column a class
            y = 1.0 if k == int(Y[i, 0]) else -1.0
        else:
            y = Y[i, k]
        value, slope = _element(kind, param, y, raw[k])
        g[k] = slope
        total += value
    return total


@jit
def _update(opt, hyper, P, G, S1, S2, step, t):
    """One optimizer step on a flat parameter array, as the classes in skgd.optim do it."""
    decay, decay_2, epsilon = hyper[0], hyper[1], hyper[2]
    # Adam's bias corrections, once a step: two powers a coefficient made its
    # updates 5-7 times slower than the other optimizers' (the same values)
    first, second = (1 - decay**t, 1 - decay_2**t) if opt == _ADAM else (1.0, 1.0)
    for q in range(P.shape[0]):
        g = G[q]
        if opt == _SGD:
            P[q] -= step * g
        elif opt == _MOMENTUM or opt == _NESTEROV:
            S1[q] = decay * S1[q] - step * g
            if opt == _MOMENTUM:
                P[q] -= -S1[q]
            else:
                P[q] -= -(decay * S1[q] - step * g)
        elif opt == _ADAGRAD:
            S1[q] = S1[q] + g * g
            P[q] -= step * g / (math.sqrt(S1[q]) + epsilon)
        elif opt == _RMSPROP:
            S1[q] = decay * S1[q] + (1 - decay) * g * g
            P[q] -= step * g / (math.sqrt(S1[q]) + epsilon)
        else:  # Adam
            S1[q] = decay * S1[q] + (1 - decay) * g
            S2[q] = decay_2 * S2[q] + (1 - decay_2) * g * g
            m_hat = S1[q] / first
            v_hat = S2[q] / second
            P[q] -= step * m_hat / (math.sqrt(v_hat) + epsilon)


@jit
def _step_all(opt, hyper, V, c, gV, gc, SV1, SV2, Sc1, Sc2, step, c_step, t, fit_intercept, l1):
    """Update V (and c), then L1's proximal step on V."""
    _update(opt, hyper, V.reshape(-1), gV.reshape(-1), SV1.reshape(-1), SV2.reshape(-1), step, t)
    if fit_intercept:
        _update(opt, hyper, c, gc, Sc1, Sc2, c_step, t)
    for k in range(V.shape[0]):
        if l1[k] > 0:
            if opt == _SGD:  # one threshold for the row, no state
                threshold = step * l1[k]
                for j in range(V.shape[1]):
                    v = V[k, j]
                    shrunk = max(abs(v) - threshold, 0.0)
                    V[k, j] = shrunk if v > 0 else (-shrunk if v < 0 else 0.0)
            else:  # (only Adam has a second slot: the others' is empty, see Plan.run)
                second = SV2[k] if opt == _ADAM else SV1[k]
                _proximal_row(opt, hyper, V[k], SV1[k], second, step, t, l1[k])


@jit
def _proximal_row(opt, hyper, v_row, s1_row, s2_row, step, t, l1):
    """L1's proximal step on one output's coefficients, as skgd.optim's built-ins take it.

    The threshold is ``l1`` times the step the update gave the current
    gradient (``Optimizer.proximal_step``); the momentum then takes in L1's
    gradient, or stops where the coefficient is set to 0 (``Optimizer.proximal_moved``).
    The same arithmetic as those methods, the constants of the step taken once.
    """
    decay, decay_2, epsilon = hyper[0], hyper[1], hyper[2]
    gain = step * (1 + decay) if opt == _NESTEROV else step  # (momentum's: step)
    adam_step = step * (1 - decay)  # Adam's share of the current gradient, and
    first, second = 1 - decay**t, 1 - decay_2**t  # its bias corrections
    for j in range(v_row.shape[0]):
        if opt == _ADAGRAD or opt == _RMSPROP:
            gain = step / (math.sqrt(s1_row[j]) + epsilon)
        elif opt == _ADAM:
            gain = adam_step / (first * (math.sqrt(s2_row[j] / second) + epsilon))
        v = v_row[j]
        threshold = gain * l1
        shrunk = max(abs(v) - threshold, 0.0)
        v_row[j] = shrunk if v > 0 else (-shrunk if v < 0 else 0.0)
        if not abs(v) > threshold:  # set to 0 (or kept there): its momentum stops
            if opt == _MOMENTUM or opt == _NESTEROV or opt == _ADAM:
                s1_row[j] = 0.0
        elif opt == _MOMENTUM or opt == _NESTEROV:
            s1_row[j] -= step * (l1 if v > 0 else -l1)
        elif opt == _ADAM:
            s1_row[j] += (1 - decay) * (l1 if v > 0 else -l1)


@jit
def _dense_epoch(
    X, Y, indexed, weights, order, batch_size, steps, c_ratio, V, c, fit_intercept,
    x_mean, x_scale, y_loc, y_scale, g_scale, l1, l2,
    kind, param, opt, hyper, SV1, SV2, Sc1, Sc2, t, V_average, c_average, averaging,
):  # fmt: skip
    n_outputs, n_features = V.shape
    n = order.shape[0]
    ahead = _ROWS_AHEAD
    line = max(1, 64 // X.itemsize)  # values a cache line
    n_lines = (n_features + line - 1) // line
    W = np.empty((n_outputs, n_features))
    b = np.empty(n_outputs)
    # (a group's rows only, see below: a batch of the whole data takes no buffer its size)
    raw = np.empty((4, n_outputs))
    g = np.empty((4, n_outputs))
    gV = np.empty((n_outputs, n_features))
    gc = np.empty(n_outputs)
    total, first = 0.0, np.nan
    n_batches = (n + batch_size - 1) // batch_size
    for batch in range(n_batches):
        start = batch * batch_size
        m = min(batch_size, n - start)
        # the model in the units of X: raw = X @ W.T + b
        for k in range(n_outputs):
            shift = 0.0
            for j in range(n_features):
                W[k, j] = y_scale[k] * (V[k, j] / x_scale[j])
                shift += W[k, j] * x_mean[j]
            b[k] = y_loc[k] + y_scale[k] * c[k] - shift
        # forward, loss and backward, a row at a time while it is in cache.
        # A random row is a cache miss that the CPU's own prefetchers cannot
        # foresee: asked for some rows ahead, the reads overlap instead of
        # waiting in turn. Its target and weight too: the loss waits for them
        # before the row's backward pass can start, and on a busy machine their
        # arrays (1.6 MB each at 200,000 rows) are not in cache either; left to
        # be read when needed, they took a third of a random epoch. Rows that
        # follow each other (shuffle="blocks" or False) are asked for too: left
        # to the hardware's prefetcher, an Intel Xeon's epoch of 200,000 x 100
        # float64 in blocks took 1.2x the time (float32's five-epoch fit 1.3x),
        # its reads and the rows' compute waiting on each other.
        batch_loss = 0.0
        gV[:] = 0.0
        gc[:] = 0.0
        r = 0
        while r < m:
            # Four rows of non-zero weight at a time (else one): their forward
            # passes and losses one after the other, then one backward pass for
            # the four, each coefficient's gradient held in a register across
            # them, not loaded and stored for every row. Each gradient still adds
            # the rows one by one, in order: the same numbers, to the bit.
            size = 1
            if r + 4 <= m:
                i0, i1 = order[start + r], order[start + r + 1]
                i2, i3 = order[start + r + 2], order[start + r + 3]
                if weights[i0] != 0 and weights[i1] != 0 and weights[i2] != 0 and weights[i3] != 0:
                    size = 4
            for s in range(r, r + size):
                # The row ``ahead`` rows on (see the comment above the loop).
                # Written here, not in an inlined helper: numba counts the references to
                # each array a helper takes, in and out, four atomic adds a row each way
                # (a fifth of an epoch's compute with X in cache).
                later = start + s + ahead
                if later < n:
                    ahead_row = order[later]
                    for q in range(n_lines):
                        _prefetch(X, ahead_row, q * line)
                    _prefetch(X, ahead_row, n_features - 1)
                    _prefetch(Y, ahead_row, 0)
                    _prefetch_item(weights, ahead_row)
                i = order[start + s]
                u = s - r  # (the row's place in its group)
                if weights[i] == 0.0:  # counts for nothing, even where its loss overflows
                    continue
                for k in range(n_outputs):
                    acc = 0.0
                    for j in range(n_features):
                        acc += X[i, j] * W[k, j]
                    raw[u, k] = acc + b[k]
                if kind < _SOFTMAX:  # one output at a time: no call per row
                    row_loss = 0.0
                    for k in range(n_outputs):
                        y = (1.0 if k == int(Y[i, 0]) else -1.0) if indexed else Y[i, k]
                        value, g[u, k] = _element_inlined(kind, param, y, raw[u, k])
                        row_loss += value
                elif kind == _SOFTMAX:  # _row_loss's two, written here (see _compiled)
                    label = int(Y[i, 0])
                    top = raw[u, 0]
                    for k in range(1, n_outputs):
                        top = max(top, raw[u, k])
                    for k in range(n_outputs):
                        g[u, k] = math.exp(raw[u, k] - top)
                    total_exp = 0.0
                    for k in range(n_outputs):  # (a loop of its own: see skgd._compiled.jit)
                        total_exp += g[u, k]
                    for k in range(n_outputs):
                        g[u, k] /= total_exp
                    g[u, label] -= 1.0
                    row_loss = top + math.log(total_exp) - raw[u, label]
                else:  # _CRAMMER_SINGER, as in _row_loss
                    label = int(Y[i, 0])
                    rival = -1
                    for k in range(n_outputs):
                        g[u, k] = 0.0
                        if k != label and (rival < 0 or raw[u, k] > raw[u, rival]):
                            rival = k
                    margin = 1.0 + raw[u, rival] - raw[u, label]
                    if margin > 0:
                        g[u, rival], g[u, label] = 1.0, -1.0
                    row_loss = max(0.0, margin)
                batch_loss += weights[i] * row_loss
                if size == 1:
                    for k in range(n_outputs):
                        gk = g[u, k] * (g_scale[k] * (weights[i] / m))
                        gc[k] += gk
                        for j in range(n_features):
                            gV[k, j] += X[i, j] * gk
            if size == 4:
                for k in range(n_outputs):
                    gk0 = g[0, k] * (g_scale[k] * (weights[i0] / m))
                    gk1 = g[1, k] * (g_scale[k] * (weights[i1] / m))
                    gk2 = g[2, k] * (g_scale[k] * (weights[i2] / m))
                    gk3 = g[3, k] * (g_scale[k] * (weights[i3] / m))
                    gc[k] += gk0
                    gc[k] += gk1
                    gc[k] += gk2
                    gc[k] += gk3
                    for j in range(n_features):
                        summed = gV[k, j]
                        summed += X[i0, j] * gk0
                        summed += X[i1, j] * gk1
                        summed += X[i2, j] * gk2
                        summed += X[i3, j] * gk3
                        gV[k, j] = summed
            r += size
        if not np.isfinite(batch_loss):
            return total, batch, first, batch_loss, t
        if batch == 0:
            first = batch_loss
        total += batch_loss
        # the gradient in standardized coordinates
        for k in range(n_outputs):
            for j in range(n_features):
                gV[k, j] = gV[k, j] / x_scale[j] - gc[k] * (x_mean[j] / x_scale[j])
                gV[k, j] += l2[k] * V[k, j]
        t += 1
        step = steps[batch]
        _step_all(
            opt, hyper, V, c, gV, gc, SV1, SV2, Sc1, Sc2, step, step * c_ratio, t, fit_intercept, l1
        )
        _step_taken(averaging, m, V, c, V_average, c_average)
    return total, n_batches, first, np.nan, t


@jit
def _step_taken(averaging, n_rows, V, c, V_average, c_average):
    """Count the batch's samples; add the iterate to the average once it runs."""
    averaging[1] += n_rows
    if averaging[1] >= averaging[0]:
        averaging[2] += 1
        share = 1.0 / averaging[2]
        for k in range(V.shape[0]):
            for j in range(V.shape[1]):
                V_average[k, j] += (V[k, j] - V_average[k, j]) * share
            c_average[k] += (c[k] - c_average[k]) * share


@jit
def _sparse_epoch(
    data, indices, indptr, Y, indexed, weights, order, batch_size, steps, c_ratio,
    V, c, fit_intercept,
    x_mean, x_scale, y_loc, y_scale, g_scale, l1, l2,
    kind, param, opt, hyper, SV1, SV2, Sc1, Sc2, t, V_average, c_average, averaging, gains,
    centres,
):  # fmt: skip
    """Any optimizer on sparse X, with a dense gradient: O(n_outputs × n_features) a batch.

    ``gains``: each column's multiplier of its gradient (exact descent's,
    see :mod:`skgd._exact_gains`), or empty: none; ``centres``: the
    columns' means, whose share of each step the intercept takes (with
    the gains), or empty.
    """
    n_outputs, n_features = V.shape
    n = order.shape[0]
    raw = np.empty((batch_size, n_outputs))
    g = np.empty((batch_size, n_outputs))
    gc = np.empty(n_outputs)
    centred = np.any(x_mean != 0)  # then every column moves
    shift = np.zeros(n_outputs)
    inverse_scale = 1.0 / x_scale
    gV = np.empty((n_outputs, n_features))
    before = np.empty(n_outputs)  # (V's share of the centres, before a step)
    total, first = 0.0, np.nan
    n_batches = (n + batch_size - 1) // batch_size
    for batch in range(n_batches):
        start = batch * batch_size
        m = min(batch_size, n - start)
        if centred:  # the mean's share of each output: the centring, done implicitly
            for k in range(n_outputs):
                shift[k] = 0.0
                for j in range(n_features):
                    shift[k] += V[k, j] * (x_mean[j] / x_scale[j])
        batch_loss = 0.0
        for r in range(m):
            i = order[start + r]
            for k in range(n_outputs):
                raw[r, k] = 0.0
            for q in range(indptr[i], indptr[i + 1]):
                j = indices[q]
                x = data[q] * inverse_scale[j]
                for k in range(n_outputs):
                    raw[r, k] += x * V[k, j]
            for k in range(n_outputs):
                raw[r, k] = y_loc[k] + y_scale[k] * (raw[r, k] - shift[k] + c[k])
            row_loss = _row_loss(kind, param, Y, indexed, i, raw[r], g[r])
            for k in range(n_outputs):
                g[r, k] *= g_scale[k] * (weights[i] / m)
            if weights[i] == 0.0:  # counts for nothing, even where its loss overflows
                row_loss = 0.0
                g[r, :] = 0.0
            batch_loss += weights[i] * row_loss
        if not np.isfinite(batch_loss):
            return total, batch, first, batch_loss, t
        if batch == 0:
            first = batch_loss
        total += batch_loss
        gc[:] = 0.0
        for r in range(m):
            for k in range(n_outputs):
                gc[k] += g[r, k]
        for k in range(n_outputs):
            for j in range(n_features):
                gV[k, j] = l2[k] * V[k, j] - gc[k] * (x_mean[j] / x_scale[j])
        for r in range(m):
            i = order[start + r]
            for k in range(n_outputs):
                gk = g[r, k]
                for q in range(indptr[i], indptr[i + 1]):
                    j = indices[q]
                    gV[k, j] += gk * (data[q] / x_scale[j])
        if centres.shape[0] > 0:  # as if X were centred (in the numpy path's order)
            for k in range(n_outputs):
                before[k] = 0.0
                for j in range(n_features):
                    gV[k, j] = gV[k, j] - gc[k] * centres[j]
                    before[k] += V[k, j] * centres[j]
        if gains.shape[0] > 0:
            for k in range(n_outputs):
                for j in range(n_features):
                    gV[k, j] *= gains[j]
        t += 1
        step = steps[batch]
        _step_all(
            opt, hyper, V, c, gV, gc, SV1, SV2, Sc1, Sc2, step, step * c_ratio, t,
            fit_intercept, l1,
        )  # fmt: skip
        if centres.shape[0] > 0:  # the intercept takes the means' share of V's move
            for k in range(n_outputs):
                moved = 0.0
                for j in range(n_features):
                    moved += V[k, j] * centres[j]
                c[k] -= moved - before[k]
        _step_taken(averaging, m, V, c, V_average, c_average)
    return total, n_batches, first, np.nan, t
