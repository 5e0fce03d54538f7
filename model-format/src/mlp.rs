//! The handcrafted-feature baseline of the paper: min-max scaling fitted on the training set,
//! the chi-squared-selected features, and a multilayer perceptron with one hidden ReLU layer
//! (scikit-learn's `MLPClassifier` as the paper configured it).

use burn::nn::{Initializer, Linear, LinearConfig};
use burn::prelude::*;
use serde::{Deserialize, Serialize};

/// The shape of the network.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MlpConfig {
    /// Features the network sees (after selection).
    pub inputs: usize,
    /// Hidden ReLU units (100 in the paper).
    pub hidden: usize,
    /// Output classes (the four quadrants).
    pub classes: usize,
}

impl MlpConfig {
    /// The paper's network on `inputs` selected features.
    pub fn paper(inputs: usize) -> Self {
        MlpConfig {
            inputs,
            hidden: 100,
            classes: 4,
        }
    }

    /// scikit-learn's initialisation: weights and biases uniform in ±√(6 / (fan_in + fan_out)).
    pub fn init(&self, device: &Device) -> Mlp {
        let layer = |i, o| sklearn_layer(i, o, device);
        Mlp {
            hidden: layer(self.inputs, self.hidden),
            output: layer(self.hidden, self.classes),
            va_head: None,
        }
    }
}

fn sklearn_layer(fan_in: usize, fan_out: usize, device: &Device) -> Linear {
    let bound = (6.0 / (fan_in + fan_out) as f64).sqrt();
    LinearConfig::new(fan_in, fan_out)
        .with_initializer(Initializer::Uniform {
            min: -bound,
            max: bound,
        })
        .init(device)
}

/// One hidden ReLU layer, then class logits (and optionally valence and arousal).
#[derive(Module, Debug)]
pub struct Mlp {
    /// Input to hidden layer, `[inputs → hidden]`, followed by ReLU.
    pub hidden: Linear,
    /// Hidden layer to class logits, `[hidden → classes]`.
    pub output: Linear,
    /// Hidden layer to valence and arousal, `[hidden → 2]`, read through tanh; `None` in the
    /// paper's network.
    pub va_head: Option<Linear>,
}

impl Mlp {
    /// The network with a freshly initialised valence–arousal head (replacing any it had).
    pub fn with_va_head(mut self) -> Mlp {
        let device = self.output.weight.device();
        let [hidden, _] = self.output.weight.dims();
        self.va_head = Some(sklearn_layer(hidden, 2, &device));
        self
    }

    /// `[B, inputs]` → log-probabilities `[B, classes]`.
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        self.forward_va(x).0
    }

    /// `[B, inputs]` → log-probabilities `[B, classes]` and, with a regression head, valence
    /// and arousal `[B, 2]` in (−1, 1).
    pub fn forward_va(&self, x: Tensor<2>) -> (Tensor<2>, Option<Tensor<2>>) {
        let h = burn::tensor::activation::relu(self.hidden.forward(x)); // [B, hidden]
        let va =
            (self.va_head.as_ref()).map(|l| burn::tensor::activation::tanh(l.forward(h.clone())));
        (
            burn::tensor::activation::log_softmax(self.output.forward(h), 1),
            va,
        )
    }

    /// Sum of the squared weights (not biases): the L2 penalty's norm.
    pub fn weight_norm2(&self) -> Tensor<1> {
        let sq = |w: Tensor<2>| w.powf_scalar(2.0).sum();
        let norm = sq(self.hidden.weight.val()) + sq(self.output.weight.val());
        match &self.va_head {
            Some(l) => norm + sq(l.weight.val()),
            None => norm,
        }
    }
}

/// From raw features to the network's input: min-max scaling fitted on the training songs,
/// then the selected columns.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FeaturePipeline {
    /// Names of the raw features, in order.
    pub names: Vec<String>,
    /// `x · scale + offset` maps the training range of each raw feature to [0, 1].
    pub scale: Vec<f32>,
    /// Per raw feature offset, added after [`FeaturePipeline::scale`].
    pub offset: Vec<f32>,
    /// Raw feature indices the network sees, ascending.
    pub selected: Vec<usize>,
}

impl FeaturePipeline {
    /// Checks that the parts fit together (a damaged bundle may not).
    pub fn validate(&self) -> Result<(), String> {
        let n = self.names.len();
        if self.scale.len() != n || self.offset.len() != n {
            return Err(format!(
                "{n} feature names but {} scales and {} offsets",
                self.scale.len(),
                self.offset.len()
            ));
        }
        if let Some(&i) = self.selected.iter().find(|&&i| i >= n) {
            return Err(format!("selected feature {i} of {n}"));
        }
        Ok(())
    }

    /// The network's input for one row of raw features.
    pub fn transform(&self, raw: &[f32]) -> Result<Vec<f32>, String> {
        self.validate()?;
        if raw.len() != self.names.len() {
            return Err(format!(
                "{} features given, the model expects {}",
                raw.len(),
                self.names.len()
            ));
        }
        Ok(self
            .selected
            .iter()
            .map(|&i| raw[i] * self.scale[i] + self.offset[i])
            .collect())
    }

    /// Names of the selected features.
    pub fn selected_names(&self) -> Vec<&str> {
        self.selected
            .iter()
            .map(|&i| self.names[i].as_str())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transform_scales_then_selects() {
        let p = FeaturePipeline {
            names: vec!["a".into(), "b".into(), "c".into()],
            scale: vec![0.5, 1.0, 0.1],
            offset: vec![-1.0, 0.0, 0.0],
            selected: vec![0, 2],
        };
        assert_eq!(p.transform(&[4.0, 9.0, 5.0]).unwrap(), vec![1.0, 0.5]);
        assert_eq!(p.selected_names(), vec!["a", "c"]);
        assert!(p.transform(&[1.0]).unwrap_err().contains("expects 3"));
        let broken = FeaturePipeline {
            selected: vec![0, 3],
            ..p
        };
        assert!(
            broken
                .transform(&[4.0, 9.0, 5.0])
                .unwrap_err()
                .contains("feature 3 of 3")
        );
    }

    #[test]
    fn network_gives_log_probabilities() {
        let device = Device::flex();
        let m = MlpConfig::paper(5).init(&device);
        let x = Tensor::<2>::from_data(TensorData::new(vec![0.5f32; 15], [3, 5]), &device);
        let p: Vec<f32> = m.forward(x).exp().into_data().try_into_vec_as().unwrap();
        for row in p.chunks(4) {
            assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-5);
        }
        let bound = (6.0f32 / 105.0).sqrt();
        let w: Vec<f32> = m.hidden.weight.val().into_data().try_into_vec_as().unwrap();
        assert!(w.iter().all(|v| v.abs() <= bound));
        assert!(
            w.iter().any(|v| v.abs() > bound / 2.0),
            "spread over the range"
        );
    }
}
