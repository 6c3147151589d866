"""The same derivation with a computer algebra system, for comparison.

Builds E_total of a dense sigmoid network (inputs-hidden-outputs, mse) as one
SymPy expression, differentiates it by every param with `diff` (what one does
with a CAS: the chain rule is applied inside `diff`, expressions swell with
depth), substitutes the values and evaluates. Prints the seconds taken and
the gradient of the first weight, so that the caller can check both tools
agree.

usage: python3 sympy_gradients.py N_IN N_HIDDEN N_OUT
"""
import sys
import time

import sympy as sp


def main():
    n_in, n_hid, n_out = (int(a) for a in sys.argv[1:4])
    start = time.perf_counter()
    xs = [sp.Symbol(f"x{i + 1}") for i in range(n_in)]
    values = {x: 0.1 * (i + 1) for i, x in enumerate(xs)}
    params = []

    def weight(name, v):
        s = sp.Symbol(name)
        params.append(s)
        values[s] = v
        return s

    k = 0
    hidden = []
    for j in range(n_hid):
        net = 0
        for i, x in enumerate(xs):
            k += 1
            net += weight(f"w_h{j + 1}_x{i + 1}", ((k * 7) % 19) / 40 - 0.2) * x
        net += weight(f"b_h{j + 1}", 0.1)
        hidden.append(1 / (1 + sp.exp(-net)))
    total = 0
    for o in range(n_out):
        net = 0
        for j, h in enumerate(hidden):
            k += 1
            net += weight(f"w_y{o + 1}_h{j + 1}", ((k * 7) % 19) / 40 - 0.2) * h
        net += weight(f"b_y{o + 1}", 0.1)
        out = 1 / (1 + sp.exp(-net))
        total += sp.Rational(1, 2) * (sp.Float(0.5) - out) ** 2
    grads = [float(sp.diff(total, p).subs(values).evalf()) for p in params]
    elapsed = time.perf_counter() - start
    print(f"{elapsed:.6f} {len(params)} {grads[0]!r}")


if __name__ == "__main__":
    main()
