#!/usr/bin/python3
"""Dev-only: independent golden numbers for @levelskip/metrics' tests (numpy + torch, not our code).

Run with Debian's python3 (numpy 1.24, torch 1.13):  /usr/bin/python3 scripts/dev/goldens.py
Prints the values pasted into test/frechet-distance.test.ts and test/lenet-forward.test.ts.
"""
import math

import numpy as np
import torch
import torch.nn.functional as F

np.set_printoptions(precision=17)


# --- Fréchet distance on formula-generated features (test/frechet-distance.test.ts) ---------------
def features_a(n, d):
    return np.array([[math.sin(0.9 * i + 0.4 * j + 0.1 * i * j) + 0.3 * math.cos(1.7 * i * j) for j in range(d)] for i in range(n)])


def features_b(n, d):
    return np.array([[0.8 * math.sin(1.1 * i + 0.3 * j * j) + 0.5 + 0.05 * j + 0.4 * math.cos(0.7 * i * j + j) + 0.2 * math.sin(0.13 * i * i + j) for j in range(d)] for i in range(n)])


def sqrtm_denman_beavers(m, iterations=100):
    """Principal square root of a matrix with real positive eigenvalues (Denman & Beavers 1976)."""
    y, z = m.copy(), np.eye(m.shape[0])
    for _ in range(iterations):
        y, z = 0.5 * (y + np.linalg.inv(z)), 0.5 * (z + np.linalg.inv(y))
    return y


A = features_a(40, 6)
B = features_b(35, 6)
mu_a, mu_b = A.mean(axis=0), B.mean(axis=0)
cov_a, cov_b = np.cov(A, rowvar=False), np.cov(B, rowvar=False)  # unbiased (n - 1)
product = cov_a @ cov_b
# Two independent routes to Tr((Σa Σb)^{1/2}): general (non-symmetric) eigenvalues of the product,
# and a Denman–Beavers square root of the product itself (what FID code does with scipy's sqrtm).
trace_eig = np.sum(np.sqrt(np.linalg.eigvals(product).astype(complex))).real
trace_db = np.trace(sqrtm_denman_beavers(product))
assert min(np.linalg.eigvalsh(cov_a).min(), np.linalg.eigvalsh(cov_b).min()) > 1e-3, 'keep both covariances well conditioned'
assert abs(trace_eig - trace_db) < 1e-9, (trace_eig, trace_db)
fd = np.sum((mu_a - mu_b) ** 2) + np.trace(cov_a) + np.trace(cov_b) - 2 * trace_eig
print("FD golden (A: 40×6, B: 35×6):", repr(fd))
print("  mean_a[0..2]:", repr(mu_a[0]), repr(mu_a[1]), repr(mu_a[2]))
print("  cov_a[0,0], cov_a[0,1], cov_b[5,5]:", repr(cov_a[0, 0]), repr(cov_a[0, 1]), repr(cov_b[5, 5]))

# --- LeNet forward with formula weights (test/lenet-forward.test.ts) --------------------------------
shapes = [
    ("conv1.weight", [16, 1, 5, 5]),
    ("conv1.bias", [16]),
    ("conv2.weight", [32, 16, 5, 5]),
    ("conv2.bias", [32]),
    ("fc1.weight", [128, 800]),
    ("fc1.bias", [128]),
    ("fc2.weight", [84, 128]),
    ("fc2.bias", [84]),
    ("fc3.weight", [10, 84]),
    ("fc3.bias", [10]),
]
w = {}
for t, (name, shape) in enumerate(shapes):
    size = int(np.prod(shape))
    k = np.arange(size, dtype=np.float64)
    if name.endswith("weight"):
        values = np.sin(0.37 * k + t) / math.sqrt(size / shape[0])
    else:
        values = 0.1 * np.cos(0.5 * k + t)
    # Stored as float32 (like the safetensors file), computed in float64.
    w[name] = torch.tensor(values.astype(np.float32).astype(np.float64).reshape(shape))

k = np.arange(1024, dtype=np.float64)
images = np.stack([0.9 * np.sin(0.05 * k + n) + 0.1 * np.cos(0.3 * k) for n in range(2)]).astype(np.float32)
x = torch.tensor(images.astype(np.float64).reshape(2, 1, 32, 32))
h = F.max_pool2d(F.relu(F.conv2d(x, w["conv1.weight"], w["conv1.bias"])), 2)
h = F.max_pool2d(F.relu(F.conv2d(h, w["conv2.weight"], w["conv2.bias"])), 2)
h = F.relu(F.linear(h.flatten(1), w["fc1.weight"], w["fc1.bias"]))
features = F.linear(h, w["fc2.weight"], w["fc2.bias"])
logits = F.linear(F.relu(features), w["fc3.weight"], w["fc3.bias"])
print("features[image 0][0..5]:", [repr(v) for v in features[0, :6].tolist()])
print("features[image 1][78..83]:", [repr(v) for v in features[1, 78:].tolist()])
print("logits[image 0]:", [repr(v) for v in logits[0].tolist()])
print("logits[image 1]:", [repr(v) for v in logits[1].tolist()])
