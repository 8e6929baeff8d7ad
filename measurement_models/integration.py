r"""Bayesian integration: one joint PyMC model from several measurements of one sample.

Model
-----
The Bayesian integration of the Bayesian-measurement programme (M. Okada's lectures on
Bayesian measurement, for magnetic susceptibility and specific heat of a crystal-field
ion; Y. Yokoyama, T. Uozumi, K. Nagata, M. Okada, M. Mizumaki, J. Phys. Soc. Jpn. 90,
034703 (2021), for Ni 2p XPS and XAS).

Datasets :math:`D_k = \{(x_{ki}, y_{ki})\}_{i=1}^{n_k}`, :math:`k = 1 \dots K`, each with
its own forward model :math:`f_k` and Gaussian noise of precision :math:`b_k = 1/\sigma_k^2`,
share the parameters :math:`\theta`. With the error functions
:math:`E_k(\theta) = \frac{1}{2n_k}\sum_i (y_{ki} - f_k(x_{ki};\theta))^2` the energies add,

.. math::

    -\log p(D_1, \dots, D_K \mid \theta, b) = \sum_k n_k b_k E_k(\theta)
        - \sum_k \frac{n_k}{2}\log\frac{b_k}{2\pi},

and the Bayesian free energy of the integrated model is

.. math::

    F = -\log p(D_1, \dots, D_K) = -\log Z - \sum_k \frac{n_k}{2}\log\frac{b_k}{2\pi},
    \qquad Z = \int \exp\Big(-\sum_k n_k b_k E_k(\theta)\Big)\,\varphi(\theta)\,d\theta,

with every dataset's normalisation term included (each likelihood is an ordinary
``pm.Normal``, so any sampler's evidence estimate contains it). With *no* parameter
shared the prior factorises and :math:`F = \sum_k F_k` exactly; comparing the two
(:math:`F_\text{integrated} < \sum_k F_k` means the data favour shared parameters) is
the test of whether the measurements see the same :math:`\theta`.

Straight line (the analytic check). For :math:`y = a x + c` with centred
:math:`x_{k}` in every dataset and a prior :math:`a \sim N(0, s_0^2)`, the posterior of
the shared slope is Gaussian with the precision-weighted combination

.. math::

    \frac{1}{\mathrm{sd}(a)^2} = \frac{1}{s_0^2} + \sum_k b_k \sum_i x_{ki}^2,

i.e. each dataset counts with its precision :math:`b_k`; the exact evidence is that of
the stacked heteroscedastic linear model (:func:`measurement_models.linear.exact_log_evidence`
with one :math:`\sigma` per point).

Noise precisions
----------------
Each :class:`Measurement` says how its :math:`b_k` is known (:class:`NoisePrecision`):

* ``NoisePrecision.fixed(b)`` (or a plain number): a known precision;
* ``NoisePrecision.from_data()``: the dataset's per-point ``sigma`` variable;
* ``NoisePrecision.parameter(prior)``: a free variable ``<name>_noise_precision``
  (default prior :data:`DEFAULT_NOISE_PRIOR`, :math:`\log b \sim N(0, 5^2)`), the
  likelihood using :math:`\sigma = b^{-1/2}`;
* by the noise scan of each dataset alone: build single-dataset models with a
  reference precision above the data's (:func:`separate_models`), estimate
  :math:`\hat b_k` with :func:`samplers.noise_precisions_by_scan` and fix them
  (:func:`with_noise_precisions`).

Naming, so that ArviZ output reads well: shared parameters keep their names (``a``);
a parameter not shared gets one copy per measurement, ``<name>_a``; the noise
precision is ``<name>_noise_precision``; the observed variable is ``<name>`` itself,
on the dimension ``<name>_<axis>`` with the dataset's axis values as coordinate.

Example (two straight-line datasets with different noise, shared slope and intercept)::

    from functools import partial
    from measurement_models import linear
    from measurement_models.integration import Measurement, integrated_model

    model = integrated_model(
        [Measurement("low", d1, linear.add_likelihood, noise=100.0),
         Measurement("high", d2, linear.add_likelihood, noise=4.0)],
        priors=partial(linear.add_priors, n_terms=2),
    )

Checked (``tests/measurement_models/test_integration.py``): the joint log-density
against the separate models' and a hand-written Gaussian density; the sampled free
energy and slope posterior against the exact stacked evidence and posterior; the
preference for shared or separate parameters against exact evidences; the posterior of
estimated precisions against two-dimensional quadrature.
"""

from __future__ import annotations

import inspect
import numbers
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import pymc as pm
import pytensor.tensor as pt
import xarray as xr

from .data import validate_dataset
from .parameters import Prior, PriorSpec

__all__ = [
    "DEFAULT_NOISE_PRIOR",
    "Likelihood",
    "Measurement",
    "NoisePrecision",
    "PriorsFactory",
    "integrated_model",
    "separate_models",
    "with_noise_precisions",
]

#: Default prior of an estimated noise precision b: log b ~ N(0, 5²). Weakly informative
#: over many decades (at 2 sd, b from 4.5e-5 to 2.2e4, σ = b^(-1/2) from 0.007 to 150
#: in the data's units) without a hard cut-off. Its width enters the free energy (an
#: Occam factor of a few nats per estimated precision); give a prior of your own
#: (``NoisePrecision.parameter(prior)``) when the data's units put σ far outside that range.
DEFAULT_NOISE_PRIOR = Prior("LogNormal", mu=0.0, sigma=5.0)

#: ``likelihood(data, params, sigma, name=...)``: adds the observed variable ``name`` of
#: one dataset to the current model (``linear.add_likelihood``, ``spectral.add_likelihood``;
#: options with :func:`functools.partial`).
Likelihood = Callable[..., pt.TensorVariable]

#: ``priors(prefix=..., names=...)``: adds the priors of the parameters ``names`` (None:
#: all) to the current model, each variable named ``prefix + name``, and returns
#: ``{name: variable}`` (``functools.partial(linear.add_priors, n_terms=2)``,
#: ``functools.partial(spectral.add_priors, n_peaks=3)``).
PriorsFactory = Callable[..., Mapping[str, pt.TensorVariable]]

NOISE_KINDS = ("fixed", "parameter", "data")


@dataclass(frozen=True)
class NoisePrecision:
    """How the Gaussian noise precision b = 1/σ² of one dataset is known.

    Create with :meth:`fixed`, :meth:`parameter` or :meth:`from_data`.

    Attributes
    ----------
    kind : {"fixed", "parameter", "data"}
    value : float or None
        The precision, for ``kind == "fixed"``.
    prior : Prior or callable or None
        The prior of b, for ``kind == "parameter"``.
    """

    kind: str
    value: float | None = None
    prior: PriorSpec | None = None

    def __post_init__(self) -> None:
        if self.kind not in NOISE_KINDS:
            raise ValueError(f"unknown noise kind {self.kind!r}; choose one of {NOISE_KINDS}")
        if self.kind == "fixed":
            value = self.value
            if (
                isinstance(value, bool)
                or not isinstance(value, numbers.Real)
                or not np.isfinite(value)
                or value <= 0
            ):
                raise ValueError(
                    f"a fixed noise precision must be a positive finite number, got {value!r}"
                )
            object.__setattr__(self, "value", float(value))
        if self.kind == "parameter" and self.prior is None:
            object.__setattr__(self, "prior", DEFAULT_NOISE_PRIOR)

    @classmethod
    def fixed(cls, precision: float) -> NoisePrecision:
        """A known precision b = 1/σ² (positive, finite)."""
        return cls("fixed", value=precision)

    @classmethod
    def parameter(cls, prior: PriorSpec | None = None) -> NoisePrecision:
        """b is a free variable ``<name>_noise_precision`` with ``prior``
        (default :data:`DEFAULT_NOISE_PRIOR`)."""
        return cls("parameter", prior=prior)

    @classmethod
    def from_data(cls) -> NoisePrecision:
        """The dataset's own per-point ``sigma`` variable."""
        return cls("data")

    def __str__(self) -> str:
        if self.kind == "fixed":
            return f"fixed b = {self.value:g}"
        if self.kind == "parameter":
            return f"estimated b ~ {self.prior}"
        return "from the data's sigma"


@dataclass(frozen=True)
class Measurement:
    """One dataset of an integrated analysis.

    Attributes
    ----------
    name : str
        A Python identifier. Names the observed variable (``name``), the measurement's
        own parameters (``<name>_<parameter>``), its noise precision
        (``<name>_noise_precision``) and its axis dimension (``<name>_<axis>``).
    data : xarray.Dataset
        The measurement (checked with :func:`~measurement_models.data.validate_dataset`).
    likelihood : callable
        ``likelihood(data, params, sigma=..., name=...)``, for example
        ``linear.add_likelihood``; see :data:`Likelihood`.
    noise : NoisePrecision or float or None
        How b is known; a number means ``NoisePrecision.fixed(number)``. ``None``
        leaves the noise to the likelihood (``sigma=None``: Poisson counts, or the
        data's own ``sigma``).
    priors : callable, optional
        ``priors(prefix=..., names=...)`` for this measurement's own parameters (those
        not shared), e.g. ``functools.partial(spectral.add_priors, n_peaks=2)``; when
        omitted they come from the ``priors`` of :func:`integrated_model`.
    validate : callable
        The check of ``data``, raising ``ValueError`` (default
        :func:`~measurement_models.data.validate_dataset`, a one-axis measurement); for
        data that are a table of samples, the module's own (``module.TABLE.validate``,
        see :class:`~measurement_models.contract.Table`).
    """

    name: str
    data: xr.Dataset
    likelihood: Likelihood
    noise: NoisePrecision | float | None = None
    priors: PriorsFactory | None = None
    validate: Callable[[xr.Dataset], object] = validate_dataset

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.isidentifier():
            raise ValueError(
                f"a measurement name must be a Python identifier (it names model "
                f"variables), got {self.name!r}"
            )
        try:
            self.validate(self.data)
        except ValueError as error:
            raise ValueError(f"measurement {self.name!r}: {error}") from None
        if not callable(self.likelihood):
            raise ValueError(f"measurement {self.name!r}: likelihood must be callable")
        if self.priors is not None:
            _check_priors(self.priors, f"measurement {self.name!r}: priors")
        noise = self.noise
        if noise is None:
            return
        if not isinstance(noise, NoisePrecision):
            noise = NoisePrecision.fixed(noise)
            object.__setattr__(self, "noise", noise)
        if noise.kind == "data" and "sigma" not in self.data.data_vars:
            raise ValueError(
                f"measurement {self.name!r}: noise from the data needs a 'sigma' variable; "
                f"present: {list(self.data.data_vars)}"
            )

    @property
    def axis(self) -> str:
        """The dataset's measurement axis."""
        (dim,) = self.data.dims
        return str(dim)

    @property
    def n(self) -> int:
        """Number of data points n_k."""
        return int(self.data.sizes[self.axis])

    def with_noise(self, noise: NoisePrecision | float) -> Measurement:
        """The same measurement with another noise specification."""
        return replace(self, noise=noise)


def _check_priors(priors: PriorsFactory, what: str = "priors") -> None:
    if not callable(priors):
        raise ValueError(f"{what} must be a callable priors(prefix=..., names=...)")
    try:
        inspect.signature(priors).bind(prefix="", names=None)
    except TypeError:
        raise ValueError(
            f"{what} must accept the keywords prefix and names, as "
            "functools.partial(linear.add_priors, n_terms=2) does"
        ) from None
    except ValueError:  # no signature available (some builtins): try it when building
        pass


def _parameter_names(priors: PriorsFactory, coords) -> list[str]:
    """Names of all parameters ``priors`` adds, found in a scratch model."""
    with pm.Model(coords=coords, model=None):
        params = priors(prefix="", names=None)
    if not isinstance(params, Mapping) or not params:
        raise ValueError("priors(prefix=..., names=None) must return a non-empty dict")
    return list(params)


def _sigma(measurement: Measurement) -> np.ndarray | np.float64 | pt.TensorVariable | None:
    """The noise standard deviation the likelihood gets: b^(-1/2) (None: its own rule)."""
    noise = measurement.noise
    if noise is None:
        return None
    if noise.kind == "fixed":
        return np.float64(noise.value**-0.5)
    if noise.kind == "data":
        return measurement.data["sigma"].values.astype(np.float64)
    spec = noise.prior
    create = spec.create if isinstance(spec, Prior) else spec
    precision = create(f"{measurement.name}_noise_precision", ())
    if isinstance(spec, Prior) and spec.distribution == "LogNormal":
        # PyMC starts a LogNormal at its mean exp(μ + s²/2), e^12.5 for the default
        # prior; start at the median exp(μ) instead, the centre of log b.
        pm.modelcontext(None).set_initval(precision, np.exp(spec.kwargs.get("mu", 0.0)))
    return precision**-0.5


def _name_axis(model: pm.Model, measurement: Measurement, observed: pt.TensorVariable) -> None:
    """Give the observed variable a named dimension with the dataset's axis values."""
    if model.named_vars_to_dims.get(observed.name) or observed.ndim != 1:
        return
    dim = f"{measurement.name}_{measurement.axis}"
    if dim not in model.coords:
        model.add_coord(dim, measurement.data[measurement.axis].values)
    # what pm.Model.add_named_variable records when a variable is created with dims=
    model.named_vars_to_dims[observed.name] = (dim,)


def integrated_model(
    measurements: Sequence[Measurement],
    priors: PriorsFactory | None = None,
    shared: Iterable[str] | str | None = None,
    coords: Mapping[str, Sequence] | None = None,
) -> pm.Model:
    r"""One joint PyMC model of several measurements sharing parameters.

    The joint negative log-likelihood is :math:`\sum_k [n_k b_k E_k(\theta) -
    \frac{n_k}{2}\log\frac{b_k}{2\pi}]` (one ``pm.Normal`` per dataset), so the free
    energy :math:`F = -\log Z - \sum_k \frac{n_k}{2}\log\frac{b_k}{2\pi}` that any
    evidence estimator returns includes every dataset's normalisation.

    Parameters
    ----------
    measurements : sequence of Measurement
        At least one; names unique and different from the parameter names.
    priors : callable, optional
        ``priors(prefix=..., names=...)`` adding parameter priors to the current model
        (see :data:`PriorsFactory`), e.g. ``functools.partial(linear.add_priors,
        n_terms=2)``. For measurements with different forward models, either one
        function adding the union of their parameters (each likelihood takes what it
        needs from the dict), or each :class:`Measurement`'s own ``priors`` with this
        one adding only the shared parameters. Required unless every measurement
        brings its own priors.
    shared : iterable of str or str, optional
        Parameters common to all measurements, taken from ``priors`` (default: all of
        its parameters; nothing when ``priors`` is None). The others get one copy per
        measurement, ``<name>_<parameter>``, from the measurement's own ``priors`` if
        it has one. ``shared=()`` gives independent parameter sets, whose free energy
        is exactly :math:`\sum_k F_k`.
    coords : mapping, optional
        Model coordinates (added to the model before the priors).

    Returns
    -------
    pymc.Model
        Free variables: the shared parameters, the per-measurement copies, the
        estimated noise precisions; one observed variable per measurement.

    Raises
    ------
    ValueError
        For an empty list, something that is not a :class:`Measurement`, duplicate
        measurement names, a name that clashes with a parameter, an unknown shared
        parameter, a measurement without priors, or a ``priors`` callable of the wrong
        form. (Bad datasets and bad fixed precisions are refused when the
        :class:`Measurement` is made.)
    """
    measurements = list(measurements)
    if not measurements:
        raise ValueError("integrated_model needs at least one measurement")
    for m in measurements:
        if not isinstance(m, Measurement):
            raise ValueError(f"expected Measurement objects, got {type(m).__name__}")
    names = [m.name for m in measurements]
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        raise ValueError(f"duplicate measurement name(s) {duplicated}")
    coords = dict(coords or {})
    if priors is None:
        without = [m.name for m in measurements if m.priors is None]
        if without:
            raise ValueError(
                f"measurement(s) {without} have no priors: give integrated_model a priors "
                "factory or each Measurement its own"
            )
        if shared:
            raise ValueError(f"shared parameters {shared!r} need a priors factory to come from")
        parameters: list[str] = []
        shared = []
    else:
        _check_priors(priors)
        parameters = _parameter_names(priors, coords)
        if shared is None:
            shared = parameters
        elif isinstance(shared, str):
            shared = [shared]
        shared = list(shared)
        unknown = [name for name in shared if name not in parameters]
        if unknown:
            raise ValueError(f"unknown shared parameter(s) {unknown}; parameters: {parameters}")
    own = {
        m.name: [
            name
            for name in (_parameter_names(m.priors, coords) if m.priors else parameters)
            if name not in shared
        ]
        for m in measurements
    }
    clash = sorted(set(names) & (set(parameters) | {p for ps in own.values() for p in ps}))
    if clash:
        raise ValueError(f"measurement name(s) {clash} clash with parameter names {parameters}")

    with pm.Model(coords=coords, model=None) as model:
        common = dict(priors(prefix="", names=shared)) if shared else {}
        for m in measurements:
            params = dict(common)
            if own[m.name]:
                factory = m.priors or priors
                params.update(factory(prefix=f"{m.name}_", names=own[m.name]))
            m.likelihood(m.data, params, sigma=_sigma(m), name=m.name)
            if m.name not in model.named_vars or model[m.name] not in model.observed_RVs:
                raise ValueError(
                    f"the likelihood of measurement {m.name!r} did not add an observed "
                    f"variable named {m.name!r}"
                )
            _name_axis(model, m, model[m.name])
    return model


def separate_models(
    measurements: Sequence[Measurement],
    priors: PriorsFactory | None = None,
    coords: Mapping[str, Sequence] | None = None,
) -> dict[str, pm.Model]:
    r"""One model per measurement, each with its own parameters.

    The sum of their free energies, :math:`\sum_k F_k`, is the free energy of
    ``integrated_model(measurements, priors, shared=())``. Use them also for the noise
    scan of each dataset (:func:`samplers.noise_precisions_by_scan`), with fixed
    reference precisions larger than the data's.
    """
    measurements = list(measurements)
    if not measurements:
        raise ValueError("separate_models needs at least one measurement")
    return {m.name: integrated_model([m], priors, coords=coords) for m in measurements}


def with_noise_precisions(
    measurements: Sequence[Measurement],
    precisions: Mapping[str, float] | xr.DataArray,
) -> list[Measurement]:
    """The measurements with fixed noise precisions, e.g. from a noise scan.

    Parameters
    ----------
    measurements : sequence of Measurement
    precisions : mapping or xarray.DataArray
        Precision by measurement name; a DataArray along a ``measurement`` dim (such as
        ``noise_precisions_by_scan(...)["best_noise_precision"]``) works too.

    Raises
    ------
    ValueError
        If a measurement has no precision, or a precision is not positive and finite.
    """
    if isinstance(precisions, xr.DataArray):
        if precisions.dims != ("measurement",):
            raise ValueError(
                f"precisions must lie along one 'measurement' dim, got dims {precisions.dims}"
            )
        precisions = {
            str(k): float(v)
            for k, v in zip(
                precisions["measurement"].values, np.atleast_1d(precisions.values), strict=True
            )
        }
    missing = [m.name for m in measurements if m.name not in precisions]
    if missing:
        raise ValueError(f"no noise precision given for measurement(s) {missing}")
    return [m.with_noise(NoisePrecision.fixed(float(precisions[m.name]))) for m in measurements]
