"""One line per layer turns it into a hypothesis-driven gradient test."""

from layers import Dense, affine_forward, tanh_forward

from gradcheck.testing import layer_test

test_tanh = layer_test(tanh_forward, "(n,k)->(n,k)")
test_affine = layer_test(affine_forward, "(n,i),(i,o),(o)->(n,o)")
test_dense = layer_test(Dense(), "(n,i),(i,o),(o)->(n,o)")
