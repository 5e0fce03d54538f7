//! Bringing weights over from the upstream PyTorch SincNet (its three state dicts, prefixed
//! `CNN.`, `DNN1.`, `DNN2.`, saved as safetensors).

use super::{SincNet, SincNetConfig};
use burn::store::{ModuleSnapshot, PyTorchToBurnAdapter, SafetensorsStore};

/// Loads upstream-named safetensors bytes into `model` (built from `config`).
///
/// Linear weights are transposed and batch-norm `weight`/`bias` renamed by burn's PyTorch
/// adapter; keys the network has no use for (upstream's unused batch norms, counters) are
/// ignored; a parameter missing from the file, or of another shape, is an error.
pub fn load_pytorch(
    model: &mut SincNet,
    config: &SincNetConfig,
    bytes: Vec<u8>,
) -> Result<(), String> {
    let mut store = SafetensorsStore::from_bytes(Some(bytes))
        .with_key_remapping(r"^CNN\.conv\.0\.low_hz_$", "cnn.sinc.low_hz")
        .with_key_remapping(r"^CNN\.conv\.0\.band_hz_$", "cnn.sinc.band_hz");
    for i in 1..=config.conv_filters.len() {
        store = store.with_key_remapping(
            format!(r"^CNN\.conv\.{i}\.(weight|bias)$"),
            format!("cnn.conv.{}.$1", i - 1),
        );
    }
    let mut store = store
        .with_key_remapping(r"^CNN\.", "cnn.")
        .with_key_remapping(r"^DNN1\.", "dnn.")
        .with_key_remapping(r"^DNN2\.wx\.0\.", "head.")
        .with_from_adapter(PyTorchToBurnAdapter);
    let result = model.load_from(&mut store).map_err(|e| e.to_string())?;
    if !result.errors.is_empty() {
        return Err(format!("{:?}", result.errors));
    }
    if !result.missing.is_empty() {
        let names: Vec<&str> = result.missing.iter().map(|(k, _)| k.as_str()).collect();
        return Err(format!("the file lacks {}", names.join(", ")));
    }
    Ok(())
}
