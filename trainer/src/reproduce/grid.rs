//! The paper's experiments as a grid of cells: the corpora, the models, which model trains on
//! what (from which other cell's weights) and which test sets it is evaluated on, and the
//! settings of each profile.

use crate::dataset::Layout;
use crate::mlp::experiment::MlpRunConfig;
use crate::sincnet::train::TrainConfig;
use clap::ValueEnum;
use model_format::features::FeatureSet;
use serde::{Deserialize, Serialize};

/// One of the paper's three corpora.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Corpus {
    /// 4Q-EMOTION (English).
    #[serde(rename = "4q")]
    FourQ,
    /// CH-818 (Mandarin), balanced down to its smallest class.
    #[serde(rename = "ch")]
    Ch818,
    /// TR-MUSIC (Turkish).
    #[serde(rename = "tr")]
    Tr,
}

impl Corpus {
    /// The three, in the poster's column order.
    pub const ALL: [Corpus; 3] = [Corpus::FourQ, Corpus::Ch818, Corpus::Tr];

    /// Short lower-case key, used in cell ids and file names.
    pub fn key(self) -> &'static str {
        match self {
            Corpus::FourQ => "4q",
            Corpus::Ch818 => "ch",
            Corpus::Tr => "tr",
        }
    }

    /// The name the poster's chains use (4Q, CH, TR).
    pub fn short(self) -> &'static str {
        match self {
            Corpus::FourQ => "4Q",
            Corpus::Ch818 => "CH",
            Corpus::Tr => "TR",
        }
    }

    /// The corpus's name.
    pub fn name(self) -> &'static str {
        self.layout().name()
    }

    /// Its on-disk layout.
    pub fn layout(self) -> Layout {
        match self {
            Corpus::FourQ => Layout::FourQ,
            Corpus::Ch818 => Layout::Ch818,
            Corpus::Tr => Layout::TrMusic,
        }
    }

    /// Songs the paper had (CH-818 before balancing).
    pub fn paper_songs(self) -> usize {
        match self {
            Corpus::FourQ => 900,
            Corpus::Ch818 => 818,
            Corpus::Tr => 400,
        }
    }

    /// Whether its classes are balanced down to the smallest before splitting (CH-818).
    pub fn balanced(self) -> bool {
        self == Corpus::Ch818
    }

    /// SincNet's batches per epoch in the paper (`N_batches`).
    pub fn batches_per_epoch(self) -> usize {
        match self {
            Corpus::FourQ => 30,
            _ => 15,
        }
    }

    /// The column of this corpus in the poster's tables.
    pub fn index(self) -> usize {
        self as usize
    }
}

/// A model of the grid.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Net {
    /// SincNet on 200 ms windows.
    SincNet200,
    /// SincNet on 500 ms windows.
    SincNet500,
    /// The MLP on Essentia-style features.
    MlpEssentia,
    /// The MLP on IS13 ComParE features.
    MlpIs13,
    /// The MLP on both.
    MlpCombined,
}

impl Net {
    /// The five, in the poster's row order.
    pub const ALL: [Net; 5] = [
        Net::MlpEssentia,
        Net::MlpIs13,
        Net::MlpCombined,
        Net::SincNet200,
        Net::SincNet500,
    ];

    /// Short key, used in cell ids.
    pub fn key(self) -> &'static str {
        match self {
            Net::SincNet200 => "sincnet200",
            Net::SincNet500 => "sincnet500",
            Net::MlpEssentia => "mlp-essentia",
            Net::MlpIs13 => "mlp-is13",
            Net::MlpCombined => "mlp-combined",
        }
    }

    /// The poster's name for it.
    pub fn name(self) -> &'static str {
        match self {
            Net::SincNet200 => "SincNet 200 ms",
            Net::SincNet500 => "SincNet 500 ms",
            Net::MlpEssentia => "MLP Essentia",
            Net::MlpIs13 => "MLP IS13 ComParE",
            Net::MlpCombined => "MLP combined",
        }
    }

    /// The MLP's features, or `None` for SincNet.
    pub fn features(self) -> Option<FeatureSet> {
        match self {
            Net::MlpEssentia => Some(FeatureSet::Essentia),
            Net::MlpIs13 => Some(FeatureSet::Is13),
            Net::MlpCombined => Some(FeatureSet::Combined),
            Net::SincNet200 | Net::SincNet500 => None,
        }
    }

    /// SincNet's window, ms.
    pub fn window_ms(self) -> Option<u32> {
        match self {
            Net::SincNet200 => Some(200),
            Net::SincNet500 => Some(500),
            _ => None,
        }
    }
}

/// The paper's set-ups.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Setup {
    /// Trained and tested on one corpus (and, for two models, tested on the others:
    /// cross-dataset).
    Within,
    /// Trained on one corpus after another, each stage starting from the last one's weights.
    Transfer,
    /// Trained on the three training sets together.
    Mixed,
}

/// One model to train: a cell of the grid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cell {
    /// The model.
    pub net: Net,
    /// The set-up.
    pub setup: Setup,
    /// What it trains on: one corpus (within), the chain's corpora in order (transfer: the
    /// last is this cell's, the earlier ones its ancestors'), or all three (mixed).
    pub corpora: Vec<Corpus>,
    /// The test sets it is evaluated on.
    pub tests: Vec<Corpus>,
}

impl Cell {
    /// Its id, also its run folder below `runs/`: `within/mlp-is13-4q`,
    /// `transfer/sincnet200-ch-tr-4q`, `mixed/sincnet200`.
    pub fn id(&self) -> String {
        let setup = match self.setup {
            Setup::Within => "within",
            Setup::Transfer => "transfer",
            Setup::Mixed => return format!("mixed/{}", self.net.key()),
        };
        let chain: Vec<&str> = self.corpora.iter().map(|c| c.key()).collect();
        format!("{setup}/{}-{}", self.net.key(), chain.join("-"))
    }

    /// The cell whose weights this one starts from (a transfer stage's previous stage).
    pub fn parent(&self) -> Option<Cell> {
        if self.setup != Setup::Transfer {
            return None;
        }
        let before = &self.corpora[..self.corpora.len() - 1];
        Some(if before.len() == 1 {
            within(self.net, before[0])
        } else {
            Cell {
                corpora: before.to_vec(),
                ..self.clone()
            }
        })
    }

    /// The chain as the poster writes it, e.g. `CH-TR-4Q`.
    pub fn chain(&self) -> String {
        let names: Vec<&str> = self.corpora.iter().map(|c| c.short()).collect();
        names.join("-")
    }

    /// The corpus whose training set the cell's own training uses (`None` when mixed).
    pub fn trains_on(&self) -> Option<Corpus> {
        match self.setup {
            Setup::Mixed => None,
            _ => self.corpora.last().copied(),
        }
    }
}

/// The within-dataset cell of `net` on `c`; the models that the poster also tests across
/// datasets (MLP IS13 and SincNet 200 ms) are evaluated on all three test sets.
fn within(net: Net, c: Corpus) -> Cell {
    let cross = matches!(net, Net::MlpIs13 | Net::SincNet200);
    Cell {
        net,
        setup: Setup::Within,
        corpora: vec![c],
        tests: if cross { Corpus::ALL.to_vec() } else { vec![c] },
    }
}

/// The poster's transfer chains: the three-stage ones of transfer 1 and 2, and the two-stage
/// ones of transfer 3.
pub const CHAINS: [&[Corpus]; 8] = {
    use Corpus::{Ch818 as CH, FourQ as Q4, Tr as TR};
    [
        &[CH, TR, Q4],
        &[TR, CH, Q4],
        &[Q4, TR, CH],
        &[TR, Q4, CH],
        &[Q4, CH, TR],
        &[CH, Q4, TR],
        &[TR, Q4],
        &[Q4, TR],
    ]
};

/// Every cell of the grid, each after the cells it starts from: the within cells, the
/// transfer stages (a stage shared by several chains once), and the mixed models.
pub fn grid() -> Vec<Cell> {
    let mut cells: Vec<Cell> = Net::ALL
        .iter()
        .flat_map(|&n| Corpus::ALL.map(|c| within(n, c)))
        .collect();
    for chain in CHAINS {
        for stage in 2..=chain.len() {
            let cell = Cell {
                net: Net::SincNet200,
                setup: Setup::Transfer,
                corpora: chain[..stage].to_vec(),
                tests: Corpus::ALL.to_vec(),
            };
            if !cells.contains(&cell) {
                cells.push(cell);
            }
        }
    }
    for net in [Net::SincNet200, Net::MlpIs13] {
        cells.push(Cell {
            net,
            setup: Setup::Mixed,
            corpora: Corpus::ALL.to_vec(),
            tests: Corpus::ALL.to_vec(),
        });
    }
    cells
}

/// The cells whose id contains `pattern`, with the cells they start from.
pub fn select(cells: &[Cell], pattern: Option<&str>) -> Vec<Cell> {
    let Some(p) = pattern else {
        return cells.to_vec();
    };
    let mut wanted: Vec<String> = Vec::new();
    for c in cells.iter().filter(|c| c.id().contains(p)) {
        let mut at = Some(c.clone());
        while let Some(cell) = at {
            wanted.push(cell.id());
            at = cell.parent();
        }
    }
    cells
        .iter()
        .filter(|c| wanted.contains(&c.id()))
        .cloned()
        .collect()
}

/// How much each cell costs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    /// The protocol exactly: 100 epochs, fully connected layers of 2048, evaluation windows
    /// every 10 ms, evaluated every 10 epochs.
    Paper,
    /// The same grid at a laptop's cost: a narrower SincNet (40 sinc filters of 129 taps,
    /// convolutions of 32, layers of 256), 12 epochs of a third of the batches, evaluated
    /// once at the end on windows every second; the MLP as in the paper.
    Quick,
    /// The grid end to end in seconds, for tests: tiny networks, three epochs of two batches.
    Tiny,
}

impl Profile {
    /// SincNet's settings for `net` trained on `on` (`None`: mixed).
    pub fn sincnet(self, net: Net, on: Option<Corpus>) -> TrainConfig {
        let window = net.window_ms().expect("a SincNet cell");
        let mut c = TrainConfig::paper(window);
        c.batches_per_epoch = on.map_or(15, Corpus::batches_per_epoch);
        match self {
            Profile::Paper => {}
            Profile::Quick => {
                c.model.sinc_filters = 40;
                c.model.sinc_len = 129;
                c.model.conv_filters = vec![32, 32];
                c.model.fc = vec![256; 3];
                c.batch_size /= 2;
                c.batches_per_epoch = c.batches_per_epoch.div_ceil(3);
                c.epochs = 12;
                c.eval_every = c.epochs;
                c.shift_ms = 1000;
            }
            Profile::Tiny => {
                c.model.sinc_filters = 8;
                c.model.sinc_len = 31;
                c.model.conv_filters = vec![8, 8];
                c.model.fc = vec![16];
                c.batch_size = 8;
                c.batches_per_epoch = 2;
                c.epochs = 3;
                c.eval_every = 1;
                c.shift_ms = 2000;
            }
        }
        c
    }

    /// The MLP's settings on `set`.
    pub fn mlp(self, set: FeatureSet) -> MlpRunConfig {
        let mut c = MlpRunConfig::paper(set);
        if self == Profile::Tiny {
            c.train.max_iter = 20;
        }
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_grid_is_the_posters() {
        let cells = grid();
        let ids: Vec<String> = cells.iter().map(Cell::id).collect();
        let count = |s: Setup| cells.iter().filter(|c| c.setup == s).count();
        assert_eq!(count(Setup::Within), 15);
        // Six two-stage and six three-stage transfers: the two-stage chains TR→4Q and 4Q→TR
        // are first stages of three-stage ones.
        assert_eq!(count(Setup::Transfer), 12);
        assert_eq!(count(Setup::Mixed), 2);
        let unique: std::collections::HashSet<&String> = ids.iter().collect();
        assert_eq!(unique.len(), ids.len());
        // Every parent comes before its child.
        for (i, c) in cells.iter().enumerate() {
            if let Some(p) = c.parent() {
                assert!(ids[..i].contains(&p.id()), "{} before {}", p.id(), c.id());
            }
        }
        let t = cells
            .iter()
            .find(|c| c.id() == "transfer/sincnet200-ch-tr-4q")
            .unwrap();
        assert_eq!(t.chain(), "CH-TR-4Q");
        assert_eq!(
            t.parent().unwrap().parent().unwrap().id(),
            "within/sincnet200-ch"
        );
        assert_eq!(
            select(&cells, Some("ch-tr-4q"))
                .iter()
                .map(Cell::id)
                .collect::<Vec<_>>(),
            [
                "within/sincnet200-ch",
                "transfer/sincnet200-ch-tr",
                "transfer/sincnet200-ch-tr-4q"
            ]
        );
    }
}
