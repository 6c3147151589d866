"""The same derivation with a computer algebra system, for comparison.

Builds E_total of a dense sigmoid network (inputs-hidden-outputs, mse) as one
SymPy expression, differentiates it by every param with `diff` (what one does
with a CAS: the chain rule is applied inside `diff`, expressions swell with
depth), substitutes the values and evaluates. Prints the seconds taken and
the gradient of the first weight, so that the caller can check both tools
agree.

A second mode, `factors`, gives SymPy the chain rule's structure too: each
local partial (∂E_k/∂out_k, ∂out/∂net, ∂net/∂w, ∂net_o/∂out_h) is taken with
`diff` on its own small expression and evaluated, and the gradients are
assembled from the numbers, as chainrule does.

usage: python3 sympy_gradients.py N_IN N_HIDDEN N_OUT [full|factors]
"""
import sys
import time

import sympy as sp


def factors(n_in, n_hid, n_out):
    """Local partials with diff, gradients assembled from their values."""
    start = time.perf_counter()
    xs = [0.1 * (i + 1) for i in range(n_in)]
    k = 0
    w_h, b_h, w_o, b_o = [], [], [], []
    for j in range(n_hid):
        row = []
        for i in range(n_in):
            k += 1
            row.append(((k * 7) % 19) / 40 - 0.2)
        w_h.append(row)
        b_h.append(0.1)
    for o in range(n_out):
        row = []
        for j in range(n_hid):
            k += 1
            row.append(((k * 7) % 19) / 40 - 0.2)
        w_o.append(row)
        b_o.append(0.1)
    net, out, t, w, x = sp.symbols("net out target w x")
    sigma = 1 / (1 + sp.exp(-net))
    d_act = sp.diff(sigma, net)
    # Forward pass, numerically.
    h_net = [sum(w_h[j][i] * xs[i] for i in range(n_in)) + b_h[j] for j in range(n_hid)]
    h_out = [float(sigma.subs(net, v)) for v in h_net]
    o_net = [sum(w_o[o][j] * h_out[j] for j in range(n_hid)) + b_o[o] for o in range(n_out)]
    o_out = [float(sigma.subs(net, v)) for v in o_net]
    grads = []
    delta_o = []
    for o in range(n_out):
        e_k = sp.Rational(1, 2) * (t - out) ** 2
        d_e = float(sp.diff(e_k, out).subs({t: 0.5, out: o_out[o]}))
        d_s = float(d_act.subs(net, o_net[o]))
        delta_o.append(d_e * d_s)
    wo, h = sp.symbols("wo h")
    for o in range(n_out):
        # ∂net_o/∂w_oj = out_hj, ∂net_o/∂b_o = 1.
        for j in range(n_hid):
            f = sp.diff(wo * h, wo).subs(h, h_out[j])
            grads.append(delta_o[o] * float(f))
        grads.append(delta_o[o] * float(sp.diff(wo * h + w, w)))
    for j in range(n_hid):
        # ∂net_o/∂out_h and ∂net_h/∂w, each with diff of its own net input.
        d_out = 0.0
        for o in range(n_out):
            net_o = sum(sp.Symbol(f"w{o}_{jj}") * sp.Symbol(f"h{jj}") for jj in range(n_hid))
            f = sp.diff(net_o, sp.Symbol(f"h{j}")).subs(sp.Symbol(f"w{o}_{j}"), w_o[o][j])
            d_out += delta_o[o] * float(f)
        delta_h = d_out * float(d_act.subs(net, h_net[j]))
        for i in range(n_in):
            f = sp.diff(w * x, w).subs(x, xs[i])
            grads.append(delta_h * float(f))
        grads.append(delta_h * float(sp.diff(w * x + wo, wo)))
    # Hidden weights first, as in the full mode.
    grads = grads[n_out * (n_hid + 1):] + grads[: n_out * (n_hid + 1)]
    elapsed = time.perf_counter() - start
    print(f"{elapsed:.6f} {len(grads)} {grads[0]!r}")


def main():
    n_in, n_hid, n_out = (int(a) for a in sys.argv[1:4])
    if len(sys.argv) > 4 and sys.argv[4] == "factors":
        factors(n_in, n_hid, n_out)
        return
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
