"""A student's layers, one in each style gradcheck understands.

One of them has a deliberate bug: ``Dense.backward`` averages the bias
gradient over the batch instead of summing it.
"""

import numpy as np

# Style 1: named-argument functions, as in the course's seed code.


def tanh_forward(x):
    return np.tanh(x)


def tanh_grad_x(x, grad_output):
    return grad_output * (1.0 - np.tanh(x) ** 2)


# Style 2: cache style, forward returns (out, cache), backward(dout, cache).


def affine_forward(x, w, b):
    out = x @ w + b
    return out, (x, w)


def affine_backward(dout, cache):
    x, w = cache
    return dout @ w.T, x.T @ dout, dout.sum(axis=0)


# Style 3: an object whose backward applies an SGD step to its own weights.


class Dense:
    signature = "(n,i),(i,o),(o)->(n,o)"

    def __init__(self, n_in=3, n_out=2, lr=0.1):
        rng = np.random.default_rng(0)
        self.W = rng.normal(size=(n_in, n_out))
        self.b = np.zeros(n_out)
        self.lr = lr

    def forward(self, input):
        return input @ self.W + self.b

    def backward(self, input, grad_output):
        grad_input = grad_output @ self.W.T
        self.W -= self.lr * input.T @ grad_output
        self.b -= self.lr * grad_output.mean(axis=0)  # the bug: should be sum
        return grad_input
