r"""Deciding when to stop measuring: posterior precision against accumulated time.

A measurement repeated in scans (or cycles) is accumulated scan by scan; after each
accumulation the posterior is sampled and the posterior standard deviation of chosen
parameters (or derived quantities) is recorded against the accumulated exposure
:math:`t_n`. With a model that describes the data, Poisson (or Gaussian) statistics
give

.. math::

    \mathrm{sd}_n \simeq c / \sqrt{t_n},

once the prior no longer matters; a systematic limit (model misfit, drifts between
scans) shows as a floor, :math:`\mathrm{sd}_n^2 \simeq c^2/t_n + \delta^2`.

- :func:`~samplers.accumulate`: the cumulative measurements after 1, 2, …, n scans (counts add,
  means average).
- :func:`~samplers.precision_curve`: the posterior mean, sd, MCSE of the sd and ESS of each
  quantity after each accumulation (NUTS by default, any sampler by a callable).
- :func:`~samplers.stopping_point`: the first step whose sd stays below a required precision
  (``target_sd``), or after which the sd levels off (``plateau_rtol``).
- :func:`~samplers.predict_precision`: before the experiment, the posterior sd of simulated
  measurements at planned exposures; :func:`~samplers.precision_law` fits
  :math:`\log\mathrm{sd} = a + b\log t` and the floor :math:`\delta`;
  :func:`~samplers.required_exposure` inverts it to the exposure needed for a target sd.
- :func:`~samplers.nuts_sampler`, :func:`~samplers.laplace_sampler`:
  ``sample(model, seed)`` callables (NUTS; the Laplace approximation at the mode for
  count-rich, near-Gaussian posteriors, where NUTS adapts slowly).

The sd's Monte Carlo standard error is ArviZ's (``arviz_stats.mcse(..., method="sd")``,
the delta-method error of the sd with the ESS of the squared deviations).

Checked (``tests/samplers/test_stopping.py``): the sampled sd after every accumulation
against the closed-form posterior sd of a normal mean with known σ and a normal prior,
:math:`(1/s_0^2 + n/\sigma^2)^{-1/2}`, and of a Poisson rate with a Gamma(α, β) prior,
:math:`\sqrt{\alpha + \sum k}/(\beta + t)`, within 4 MCSE; the plateau step of
:math:`\sqrt{\sigma^2/n + \delta^2}` against the analytic step where its relative
fall per step drops below the tolerance (and no plateau for a pure :math:`1/\sqrt n`
within its range: a negative control); :func:`~samplers.required_exposure` against
:math:`t = (c/\mathrm{target})^2`; accumulation against sums and means written in
the test; the Laplace sampler against the exact normal posterior; bad input.

Modules: :mod:`~samplers.stopping.accumulation`, :mod:`~samplers.stopping.precision`,
:mod:`~samplers.stopping.posterior_samplers`, :mod:`~samplers.stopping.rule`,
:mod:`~samplers.stopping.planning`. The public names are imported from :mod:`samplers`.
"""

__all__: list[str] = []
