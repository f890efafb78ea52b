import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gradcheck import GradcheckError
from gradcheck.layers import REFERENCE_LAYERS
from gradcheck.strategies import kinks_at, layer_inputs, losses, shapes, values


@given(drawn=shapes("(n,i),(i,o),(o)->(n,o)"))
def test_shapes_agree_with_the_signature(drawn):
    (n, i), (i2, o), (o2,) = drawn.input_shapes

    assert i == i2 and o == o2
    assert drawn.result_shape == (n, o)


def test_size_one_and_non_square_are_both_drawn():
    seen = []

    @settings(max_examples=100, database=None)
    @given(drawn=shapes("(a,b)->(a,b)"))
    def collect(drawn):
        seen.append(drawn.input_shapes[0])

    collect()

    assert any(1 in shape for shape in seen)
    assert any(shape[0] != shape[1] for shape in seen)


def test_literal_sizes_and_fixed_sides_are_kept():
    drawn = shapes("(f,c,3,3)->(f)", fixed_sides={"c": 5}).example()

    assert drawn.input_shapes[0][1:] == (5, 3, 3)


@pytest.mark.parametrize("bad", ["(n,i)", "n->n", "(n-1)->(n)", "(n)->(m)"])
def test_bad_signatures_are_refused(bad):
    with pytest.raises(GradcheckError):
        shapes(bad).example()


@given(x=values(np.float32, max_magnitude=1e3))
def test_values_are_finite_and_bounded_in_float32(x):
    assert np.isfinite(x) and abs(x) <= 1e3
    assert float(np.float32(x)) == x


@given(inputs=layer_inputs(REFERENCE_LAYERS["relu"]))
def test_kink_avoidance_keeps_relu_inputs_off_zero(inputs):
    assert np.all(np.abs(inputs["x"]) > 0)
    assert not np.any(REFERENCE_LAYERS["relu"].nonsmooth(inputs, 1e-5)["x"])


@given(inputs=layer_inputs(REFERENCE_LAYERS["embedding"]))
def test_index_inputs_stay_in_range(inputs):
    assert inputs["indices"].dtype.kind == "i"
    assert np.all(inputs["indices"] < inputs["table"].shape[0])


def test_kinks_at_marks_elements_near_the_points():
    mask = kinks_at(-1.0, 1.0)({"x": np.array([-1.0, 0.0, 0.99999])}, 1e-3)

    assert mask["x"].tolist() == [True, False, True]


def test_losses_compose_with_user_strategies():
    strategy = st.tuples(losses(names=["mse"]), st.integers())

    assert strategy.example()[0] == "mse"
    with pytest.raises(GradcheckError, match="unknown loss"):
        losses(names=["nope"])
