"""Smoothing and slow noise for control curves.

Films are made offline, so the whole curve is known before a frame is drawn. We therefore run a
critically damped spring both forwards and backwards in time: the result has the spring's
no-overshoot, no-ringing character but none of its lag, so a mouth shape still lands on its sound.
Run forwards, a critically damped spring with angular frequency w has the impulse response
w^2 t e^(-w t); run forwards then backwards the responses convolve into (1 + w|t|) e^(-w|t|) (up to
scale). That is a plain convolution, so it vectorises with numpy and needs no per-frame loop.
"""

from __future__ import annotations

import numpy as np

# (1 + x) e^-x falls below 1e-4 of its peak at x ~ 11.8: beyond that the kernel changes nothing visible.
_KERNEL_REACH = 12.0


def spring_kernel(*, fps: float, time_constant: float) -> np.ndarray:
    """Normalised zero-phase critically damped spring kernel sampled at FPS.

    TIME_CONSTANT (seconds, >= 0) is 1/w: the causal spring reaches 26 % of a step after one time
    constant and 90 % after about four. A time constant well under a frame gives the identity kernel.
    """
    if fps <= 0:
        raise ValueError(f"fps must be positive, got {fps}")
    if time_constant < 0:
        raise ValueError(f"time_constant must be >= 0, got {time_constant}")
    step = 1.0 / (fps * time_constant) if time_constant > 0 else np.inf
    if step > _KERNEL_REACH:
        return np.ones(1)
    reach = int(np.ceil(_KERNEL_REACH / step))
    x = np.abs(np.arange(-reach, reach + 1)) * step
    kernel = (1.0 + x) * np.exp(-x)
    return kernel / kernel.sum()


def spring_smooth(values: np.ndarray, *, fps: float, time_constant: float) -> np.ndarray:
    """VALUES (1-D, one per frame) through a zero-phase critically damped spring.

    The curve is extended with its first and last values, as if it had rested there: a clip should
    not start or end by sagging towards zero. Because the kernel is positive and sums to one, the
    result never leaves the range of the input.
    """
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1:
        raise ValueError(f"expected a 1-D curve, got shape {values.shape}")
    kernel = spring_kernel(fps=fps, time_constant=time_constant)
    if kernel.size == 1 or values.size == 0:
        return values.copy()
    reach = kernel.size // 2
    padded = np.pad(values, reach, mode="edge")
    return np.convolve(padded, kernel, mode="valid")


def perlin_noise(times: np.ndarray, *, frequency: float, rng: np.random.Generator) -> np.ndarray:
    """One-dimensional gradient (Perlin) noise at TIMES (seconds), features about 1/FREQUENCY apart.

    Values lie in -1..1 (in practice mostly within +-0.6) and the curve and its slope are continuous:
    it drifts like a person who is not trying to move, never jerks. RNG draws the random gradients,
    so the same generator state gives the same curve.
    """
    times = np.asarray(times, dtype=np.float64)
    if times.size == 0:
        return np.zeros(0)
    lattice = times * frequency + rng.uniform(0.0, 1.0)
    lower = np.floor(lattice).astype(np.int64)
    first = int(lower.min())
    gradients = rng.uniform(-1.0, 1.0, size=int(lower.max()) - first + 2)
    fraction = lattice - lower
    left = gradients[lower - first] * fraction
    right = gradients[lower - first + 1] * (fraction - 1.0)
    # Perlin's quintic fade: zero first and second derivative at lattice points, so no visible kinks.
    fade = fraction**3 * (fraction * (fraction * 6.0 - 15.0) + 10.0)
    # Raw 1-D gradient noise peaks at +-0.5; doubling uses the whole -1..1 range.
    return 2.0 * (left + fade * (right - left))


def soft_limit(values: np.ndarray, bound: float) -> np.ndarray:
    """Squash VALUES into the open interval (-BOUND, BOUND), nearly unchanged well inside it.

    A hard clip would flatten a head turn into a visible stop; tanh eases into the limit instead.
    """
    return bound * np.tanh(np.asarray(values, dtype=np.float64) / bound)
