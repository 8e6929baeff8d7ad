r"""Compile a PyMC model into one batched function ``X -> (log-prior, log-likelihood)``.

The tempered density of replica exchange is

.. math::

    \log\pi_\beta(x) = \underbrace{\log\varphi(x)}_{\text{free variables + Jacobian}}
    + \beta\,\underbrace{\ell(x)}_{\text{observed variables + Potentials}},

PyMC's own split (``model.varlogp`` and ``model.datalogp``, as ``pm.sample_smc`` uses).
Both terms are written as functions of one raveled vector of PyMC's transformed
(unconstrained) values, then :func:`pytensor.graph.replace.vectorize_graph` adds a
leading replica axis, so a single call evaluates every replica: ``X`` has shape
``(replicas, dim)`` and both outputs shape ``(replicas,)``. Models whose Ops cannot be
vectorised fall back to a Python loop over replicas, with a warning.

Gradient moves (``update="mala"`` or ``"hmc"`` of the kernel) also need

.. math::

    \nabla_x \log\pi_\beta(x) = \nabla_x\log\varphi(x) + \beta\,\nabla_x\ell(x),

so :meth:`TemperedDensity.gradient` returns both values and both gradients of every
replica: PyTensor's symbolic :func:`pytensor.grad` of the single-point graph, batched by
the same :func:`~pytensor.graph.replace.vectorize_graph` (or the same loop). It is
compiled on its first use (:meth:`TemperedDensity.compile_gradient`), so the
random-walk updates never pay for its compilation.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pymc as pm
import pytensor.tensor as pt
from pymc.pytensorf import join_nonshared_inputs
from pymc.vartypes import discrete_types
from pytensor.graph.replace import vectorize_graph

from ..compilation import compile_reproducibly

__all__ = ["TemperedDensity", "check_temperable"]


def check_temperable(model: pm.Model, vars: Sequence[pt.TensorVariable]) -> None:
    """Raise a clear error if replica exchange cannot run on this model.

    Raises
    ------
    ValueError
        No observed variables or Potentials (nothing to temper), discrete free
        variables, or a step asked to sample only part of the free variables.
    """
    if not model.observed_RVs and not model.potentials:
        raise ValueError(
            "replica exchange tempers the likelihood, but the model has no observed "
            "variables or Potentials"
        )
    discrete = [v.name for v in model.value_vars if v.dtype in discrete_types]
    if discrete:
        raise ValueError(
            f"replica exchange samples continuous variables only; discrete free variables: "
            f"{discrete}"
        )
    missing = [v.name for v in model.value_vars if v not in vars]
    if missing:
        raise ValueError(
            "ReplicaExchange tempers the whole model and must own every free variable; "
            f"not assigned to it: {missing}"
        )


class TemperedDensity:
    """Batched log-prior and log-likelihood of a PyMC model.

    Parameters
    ----------
    model : pymc.Model
    vars : sequence of value variables
        All free value variables, in the order of the raveled vector.
    initial_point : dict
        A point giving the shapes of the variables.
    compile_kwargs : dict, optional
        Passed to :func:`pymc.pytensorf.compile` (PyMC's compile: parameter checks
        become -inf instead of exceptions), which runs without fast math
        (:func:`samplers.compilation.compile_reproducibly`: the same bits from a fresh
        compile and from the compile cache).
    vectorize : bool
        Build the batched graph (default). ``False`` forces the loop (for tests and for
        Ops that vectorise but run slowly when batched).

    Attributes
    ----------
    vectorized : bool
        Whether one call evaluates all replicas.
    gradient_vectorized : bool or None
        Whether one call of :meth:`gradient` evaluates all replicas (None until the
        gradient is compiled).
    """

    def __init__(
        self,
        model: pm.Model,
        vars: Sequence[pt.TensorVariable],
        initial_point: dict[str, np.ndarray],
        compile_kwargs: dict | None = None,
        vectorize: bool = True,
    ) -> None:
        compile_kwargs = {"on_unused_input": "ignore", **(compile_kwargs or {})}
        self._vectorize = vectorize
        self._compile_kwargs = compile_kwargs
        (log_prior, log_lik), flat = join_nonshared_inputs(
            point=initial_point, outputs=[model.varlogp, model.datalogp], inputs=list(vars)
        )
        start = np.concatenate([np.ravel(initial_point[v.name]) for v in vars]).astype(flat.dtype)
        self.dim = start.size
        self.vectorized = False
        if vectorize:
            try:
                batch = pt.matrix("replicas", dtype=flat.dtype)
                batched = vectorize_graph([log_prior, log_lik], replace={flat: batch})
                self._batched = compile_reproducibly([batch], batched, **compile_kwargs)
                self._batched.trust_input = True
                self._batched(np.stack([start, start]))
                self.vectorized = True
            except Exception as error:  # any failure to build or run the batched graph
                warnings.warn(
                    "replica exchange could not vectorise this model's log-density over "
                    f"replicas ({type(error).__name__}: {error}); falling back to one call "
                    "per replica, which is slower",
                    UserWarning,
                    stacklevel=3,
                )
        if not self.vectorized:
            self._single = compile_reproducibly([flat], [log_prior, log_lik], **compile_kwargs)
            self._single.trust_input = True
        self.dtype = flat.dtype
        # what compile_gradient needs (the single-point graph and a valid point)
        self._graph = (flat, log_prior, log_lik)
        self._start = start
        self._gradient = None
        self.gradient_vectorized: bool | None = None

    def __call__(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Log-prior and log-likelihood of every row of ``x`` (shape ``(replicas, dim)``)."""
        x = np.ascontiguousarray(x, dtype=self.dtype)
        if self.vectorized:
            log_prior, log_lik = self._batched(x)
            return np.asarray(log_prior), np.asarray(log_lik)
        values = np.array([self._single(row) for row in x], dtype=float)
        return values[:, 0], values[:, 1]

    def compile_gradient(self) -> None:
        """Compile :meth:`gradient` now (it is otherwise compiled on its first call).

        The batched graph of the values and gradients is tried first; if it cannot be
        built or run, a loop over replicas, with a warning.
        """
        if self._gradient is not None:
            return
        flat, log_prior, log_lik = self._graph
        outputs = [log_prior, log_lik, pt.grad(log_prior, flat), pt.grad(log_lik, flat)]
        self.gradient_vectorized = False
        if self._vectorize:
            try:
                batch = pt.matrix("replicas", dtype=flat.dtype)
                batched = vectorize_graph(outputs, replace={flat: batch})
                function = compile_reproducibly([batch], batched, **self._compile_kwargs)
                function.trust_input = True
                function(np.stack([self._start, self._start]))
                self._gradient = function
                self.gradient_vectorized = True
                return
            except Exception as error:  # any failure to build or run the batched graph
                warnings.warn(
                    "replica exchange could not vectorise this model's log-density gradient "
                    f"over replicas ({type(error).__name__}: {error}); falling back to one "
                    "call per replica, which is slower",
                    UserWarning,
                    stacklevel=3,
                )
        single = compile_reproducibly([flat], outputs, **self._compile_kwargs)
        single.trust_input = True

        def loop(x: np.ndarray) -> list[np.ndarray]:
            rows = [single(row) for row in x]
            return [np.array([row[k] for row in rows], dtype=float) for k in range(4)]

        self._gradient = loop

    def gradient(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        r"""Values and gradients of every row of ``x`` (shape ``(replicas, dim)``).

        Returns
        -------
        log_prior, log_lik : ndarray, shape (replicas,)
        grad_log_prior, grad_log_lik : ndarray, shape (replicas, dim)
            :math:`\nabla_x\log\varphi` and :math:`\nabla_x\ell` in the raveled
            transformed space.
        """
        self.compile_gradient()
        x = np.ascontiguousarray(x, dtype=self.dtype)
        log_prior, log_lik, grad_prior, grad_lik = self._gradient(x)
        return (
            np.asarray(log_prior, dtype=float),
            np.asarray(log_lik, dtype=float),
            np.asarray(grad_prior, dtype=float),
            np.asarray(grad_lik, dtype=float),
        )
