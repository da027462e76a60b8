//! A Prometheus summary (the `prometheus` crate has none), used for ingress-nginx's
//! `nginx_ingress_controller_ingress_upstream_latency_seconds`.
//!
//! Per label set it keeps the count, the sum and the last [`WINDOW`] observations; the
//! quantiles 0.5, 0.9 and 0.99 (ingress-nginx's objectives) are computed at scrape time
//! from that window. Memory per series is bounded.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;
use prometheus::core::{Collector, Desc};
use prometheus::proto::{LabelPair, Metric, MetricFamily, MetricType, Quantile, Summary};

/// Observations kept per series for the quantiles.
const WINDOW: usize = 1024;
/// ingress-nginx's summary objectives.
const QUANTILES: [f64; 3] = [0.5, 0.9, 0.99];

#[derive(Default)]
struct Series {
    count: u64,
    sum: f64,
    ring: Vec<f64>,
    next: usize,
}

/// A summary vector with fixed label names. Clones share the series.
#[derive(Clone)]
pub(crate) struct SummaryVec {
    desc: Desc,
    const_labels: Vec<(String, String)>,
    label_names: Vec<String>,
    series: Arc<Mutex<HashMap<Vec<String>, SummarySeries>>>,
}

impl SummaryVec {
    pub(crate) fn new(
        name: &str,
        help: &str,
        const_labels: &[(String, String)],
        label_names: &[&str],
    ) -> prometheus::Result<Self> {
        let desc = Desc::new(
            name.to_string(),
            help.to_string(),
            label_names.iter().map(|s| (*s).to_string()).collect(),
            const_labels.iter().cloned().collect(),
        )?;
        Ok(Self {
            desc,
            const_labels: const_labels.to_vec(),
            label_names: label_names.iter().map(|s| (*s).to_string()).collect(),
            series: Arc::new(Mutex::new(HashMap::new())),
        })
    }

    /// The series of `values` (in label-name order; extra values are ignored, missing
    /// ones are empty), created on first use. Keep the handle to observe without lookups.
    pub(crate) fn series(&self, values: &[&str]) -> SummarySeries {
        let key: Vec<String> = (0..self.label_names.len())
            .map(|i| values.get(i).copied().unwrap_or("").to_string())
            .collect();
        let mut map = self.series.lock();
        map.entry(key)
            .or_insert_with(|| SummarySeries(Arc::new(Mutex::new(Series::default()))))
            .clone()
    }

    /// Records one observation (a lookup; prefer [`SummaryVec::series`] on hot paths).
    #[cfg(test)]
    pub(crate) fn observe(&self, values: &[&str], v: f64) {
        self.series(values).observe(v);
    }
}

/// One series of a [`SummaryVec`].
#[derive(Clone)]
pub(crate) struct SummarySeries(Arc<Mutex<Series>>);

impl SummarySeries {
    /// Records one observation; non-finite values are ignored.
    pub(crate) fn observe(&self, v: f64) {
        if !v.is_finite() {
            return;
        }
        let mut guard = self.0.lock();
        let s = &mut *guard;
        s.count = s.count.saturating_add(1);
        s.sum += v;
        if s.ring.len() < WINDOW {
            s.ring.push(v);
        } else if let Some(slot) = s.ring.get_mut(s.next) {
            *slot = v;
        }
        s.next = (s.next + 1) % WINDOW;
    }
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    // Nearest rank.
    let rank = (q * sorted.len() as f64).ceil() as usize;
    let idx = rank.saturating_sub(1).min(sorted.len() - 1);
    sorted.get(idx).copied().unwrap_or(f64::NAN)
}

fn pair(name: &str, value: &str) -> LabelPair {
    let mut p = LabelPair::default();
    p.set_name(name.to_string());
    p.set_value(value.to_string());
    p
}

impl Collector for SummaryVec {
    fn desc(&self) -> Vec<&Desc> {
        vec![&self.desc]
    }

    fn collect(&self) -> Vec<MetricFamily> {
        let map = self.series.lock();
        let mut metrics = Vec::with_capacity(map.len());
        for (values, series) in map.iter() {
            let s = series.0.lock();
            let mut labels: Vec<LabelPair> = self
                .const_labels
                .iter()
                .map(|(k, v)| pair(k, v))
                .chain(self.label_names.iter().zip(values).map(|(k, v)| pair(k, v)))
                .collect();
            labels.sort_by(|a, b| a.name().cmp(b.name()));
            let mut sorted = s.ring.clone();
            sorted.sort_by(f64::total_cmp);
            let quantiles = QUANTILES
                .iter()
                .map(|q| {
                    let mut qq = Quantile::default();
                    qq.set_quantile(*q);
                    qq.set_value(quantile(&sorted, *q));
                    qq
                })
                .collect();
            let mut summary = Summary::default();
            summary.set_sample_count(s.count);
            summary.set_sample_sum(s.sum);
            summary.set_quantile(quantiles);
            let mut m = Metric::default();
            m.set_label(labels);
            m.set_summary(summary);
            metrics.push(m);
        }
        metrics.sort_by(|a, b| {
            let ka: Vec<&str> = a.get_label().iter().map(LabelPair::value).collect();
            let kb: Vec<&str> = b.get_label().iter().map(LabelPair::value).collect();
            ka.cmp(&kb)
        });
        let mut mf = MetricFamily::default();
        mf.set_name(self.desc.fq_name.clone());
        mf.set_help(self.desc.help.clone());
        mf.set_field_type(MetricType::SUMMARY);
        mf.set_metric(metrics);
        vec![mf]
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn quantiles_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(quantile(&v, 0.5), 50.0);
        assert_eq!(quantile(&v, 0.9), 90.0);
        assert_eq!(quantile(&v, 0.99), 99.0);
        assert!(quantile(&[], 0.5).is_nan());
    }

    #[test]
    fn window_is_bounded() {
        let s = SummaryVec::new("x", "h", &[], &["a"]).unwrap();
        for i in 0..(WINDOW * 3) {
            s.observe(&["v"], i as f64);
        }
        let map = s.series.lock();
        let series = map.values().next().unwrap().0.lock();
        assert_eq!(series.ring.len(), WINDOW);
        assert_eq!(series.count, (WINDOW * 3) as u64);
    }
}
