//! Why do our groups differ from Polis's? For each conversation in a folder of Polis exports,
//! measures where the disagreement enters, on the participants both Polis and we grouped:
//!
//! - whether Polis's groups are a k-means partition of our 2-D map at all (nearest Polis-group
//!   centroid vs Polis's labels; low means our PCA space or participant set differs from Polis's);
//! - base clusters: purity w.r.t. Polis's labels and the ARI ceiling they allow;
//! - the group k-means at each k: Polis's cold start (20 iterations and to convergence) against
//!   the best of 50 weighted k-means++ starts, by weighted inertia, silhouette and ARI.
//!
//! With `--replay [name prefixes...]`, replays the conversations under several batchings instead.
//! Environment overrides for experiments: `STARTS` (`Params::group_cold_starts`), `MIN_VOTES`
//! (`Params::min_votes_in_conv`), `SEED`.
//!
//! ```text
//! cargo run --release -p commonground-examples --bin agreement_diagnostics -- ../shared/data/opendata
//! cargo run --release -p commonground-examples --bin agreement_diagnostics -- ../shared/data/opendata --replay canadian
//! ```

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use commonground::cluster::{adjusted_rand_index, kmeans, silhouette, Cluster, Points};
use commonground::{io, Id, Params};

fn polis_groups(dir: &Path) -> HashMap<Id, String> {
    let mut reader = csv::Reader::from_path(dir.join("participants-votes.csv")).unwrap();
    let headers = reader.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (p, g) = (col("participant"), col("group-id"));
    reader
        .records()
        .map(|r| r.unwrap())
        .filter(|r| !r[g].trim().is_empty())
        .map(|r| (Id::parse(&r[p]), r[g].trim().to_string()))
        .collect()
}

/// Parameters, with overrides from the environment (STARTS, MIN_VOTES, SEED) for experiments.
fn params() -> Params {
    let env = |k: &str| std::env::var(k).ok().and_then(|v| v.parse::<usize>().ok());
    let mut p = Params::default();
    if let Some(s) = env("STARTS") {
        p.group_cold_starts = s;
    }
    if let Some(m) = env("MIN_VOTES") {
        p.min_votes_in_conv = m;
    }
    if let Some(s) = env("SEED") {
        p.seed = s as u64;
    }
    p
}

fn d2(a: [f64; 2], b: [f64; 2]) -> f64 {
    (a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)
}

/// Weighted within-cluster sum of squares of a labelling.
fn inertia(pos: &[[f64; 2]], w: &[f64], label: &[usize], k: usize) -> f64 {
    let mut s = vec![[0.0, 0.0, 0.0]; k];
    for ((p, &wi), &l) in pos.iter().zip(w).zip(label) {
        s[l][0] += wi * p[0];
        s[l][1] += wi * p[1];
        s[l][2] += wi;
    }
    let c: Vec<[f64; 2]> = s.iter().map(|s| if s[2] > 0.0 { [s[0] / s[2], s[1] / s[2]] } else { [0.0, 0.0] }).collect();
    pos.iter().zip(w).zip(label).map(|((p, &wi), &l)| wi * d2(*p, c[l])).sum()
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Weighted Lloyd to convergence from k-means++ seeds; best of `starts` by inertia.
fn lloyd_best(pos: &[[f64; 2]], w: &[f64], k: usize, starts: usize, seed: u64) -> (Vec<usize>, f64) {
    let mut rng = Rng(seed);
    let mut best: Option<(Vec<usize>, f64)> = None;
    for _ in 0..starts {
        let mut c: Vec<[f64; 2]> = Vec::new();
        let total: f64 = w.iter().sum();
        let mut t = rng.unit() * total;
        let mut first = 0;
        for (i, &wi) in w.iter().enumerate() {
            t -= wi;
            if t <= 0.0 {
                first = i;
                break;
            }
        }
        c.push(pos[first]);
        while c.len() < k {
            let dd: Vec<f64> = pos
                .iter()
                .zip(w)
                .map(|(p, &wi)| wi * c.iter().map(|q| d2(*p, *q)).fold(f64::INFINITY, f64::min))
                .collect();
            let s: f64 = dd.iter().sum();
            if s <= 0.0 {
                break;
            }
            let mut t = rng.unit() * s;
            let mut pick = dd.len() - 1;
            for (i, &x) in dd.iter().enumerate() {
                t -= x;
                if t <= 0.0 && x > 0.0 {
                    pick = i;
                    break;
                }
            }
            c.push(pos[pick]);
        }
        let mut label = vec![0; pos.len()];
        for _ in 0..300 {
            let new: Vec<usize> = pos
                .iter()
                .map(|p| (0..c.len()).min_by(|&a, &b| d2(*p, c[a]).total_cmp(&d2(*p, c[b]))).unwrap())
                .collect();
            let changed = new != label;
            label = new;
            let mut s = vec![[0.0, 0.0, 0.0]; c.len()];
            for ((p, &wi), &l) in pos.iter().zip(w).zip(&label) {
                s[l][0] += wi * p[0];
                s[l][1] += wi * p[1];
                s[l][2] += wi;
            }
            for (ci, s) in c.iter_mut().zip(&s) {
                if s[2] > 0.0 {
                    *ci = [s[0] / s[2], s[1] / s[2]];
                }
            }
            if !changed {
                break;
            }
        }
        let e = inertia(pos, w, &label, c.len());
        if best.as_ref().is_none_or(|b| e < b.1 - 1e-12) {
            best = Some((label, e));
        }
    }
    best.unwrap()
}

fn main() {
    let root = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "../shared/data/opendata".into()));
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("participants-votes.csv").exists())
        .collect();
    dirs.sort();
    if std::env::args().nth(2).as_deref() == Some("--replay") {
        return replay_variants(&dirs);
    }
    for dir in dirs {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let data = io::load(&dir).unwrap();
        let polis = polis_groups(&dir);
        let labels: Vec<&String> = {
            let mut v: Vec<&String> = polis.values().collect::<HashSet<_>>().into_iter().collect();
            v.sort();
            v
        };
        let kp = labels.len();
        let lab_idx: HashMap<&String, usize> = labels.iter().enumerate().map(|(i, l)| (*l, i)).collect();
        let a = commonground::analyze(&data.votes, &data.statements, &params()).unwrap();
        let in_conv: Vec<&commonground::analysis::ParticipantResult> =
            a.participants.iter().filter(|p| p.in_conv).collect();
        let both: Vec<&&commonground::analysis::ParticipantResult> =
            in_conv.iter().filter(|p| polis.contains_key(&p.id)).collect();
        println!(
            "\n## {name}: in-conv ours {} | Polis grouped {} | both {} | Polis k {kp} | our k {:?} sil {:?}",
            in_conv.len(),
            polis.len(),
            both.len(),
            a.k_selection.k,
            a.k_selection.silhouettes.iter().map(|(k, s)| format!("{k}:{s:.3}")).collect::<Vec<_>>()
        );
        let truth: Vec<usize> = both.iter().map(|p| lab_idx[&polis[&p.id]]).collect();
        let pos: Vec<[f64; 2]> = both.iter().map(|p| [p.x, p.y]).collect();
        let ones = vec![1.0; pos.len()];
        let ours: Vec<u32> = both.iter().map(|p| p.group.unwrap_or(u32::MAX)).collect();
        println!("  ARI ours (k={:?}) vs Polis: {:.3}", a.k_selection.k, adjusted_rand_index(&ours, &truth));

        // Is Polis's partition a k-means partition in our 2-D space? Nearest Polis-group centroid.
        let mut s = vec![[0.0, 0.0, 0.0]; kp];
        for (p, &t) in pos.iter().zip(&truth) {
            s[t][0] += p[0];
            s[t][1] += p[1];
            s[t][2] += 1.0;
        }
        let cen: Vec<[f64; 2]> = s.iter().map(|s| [s[0] / s[2], s[1] / s[2]]).collect();
        let nc: Vec<usize> =
            pos.iter().map(|p| (0..kp).min_by(|&x, &y| d2(*p, cen[x]).total_cmp(&d2(*p, cen[y]))).unwrap()).collect();
        println!(
            "  participant level: Polis partition inertia {:.1}; nearest-Polis-centroid ARI {:.3}; centroids {:?}",
            inertia(&pos, &ones, &truth, kp),
            adjusted_rand_index(&nc, &truth),
            cen.iter()
                .map(|c| format!("({:.2},{:.2}) n={}", c[0], c[1], truth.iter().filter(|&&t| cen[t] == *c).count()))
                .collect::<Vec<_>>()
        );
        let (best, e) = lloyd_best(&pos, &ones, kp, 50, 1);
        println!(
            "  participant level k={kp}: best-of-50 k-means++ inertia {e:.1} ARI {:.3}",
            adjusted_rand_index(&best, &truth)
        );

        // Base clusters: purity w.r.t. Polis labels and the ceiling ARI (each base cluster -> majority label).
        let row_of: HashMap<&Id, usize> = both.iter().enumerate().map(|(i, p)| (&p.id, i)).collect();
        let mut majority: HashMap<u32, usize> = HashMap::new();
        for bc in &a.base_clusters {
            let mut cnt = vec![0usize; kp];
            for m in &bc.members {
                if let Some(&r) = row_of.get(m) {
                    cnt[truth[r]] += 1;
                }
            }
            majority.insert(bc.id, (0..kp).max_by_key(|&i| (cnt[i], std::cmp::Reverse(i))).unwrap());
        }
        let ceiling: Vec<usize> = both.iter().map(|p| majority[&p.base_cluster.unwrap()]).collect();
        let pure = ceiling.iter().zip(&truth).filter(|(a, b)| a == b).count();
        println!(
            "  base clusters: {} ; purity {:.3}; ceiling ARI (base -> majority Polis label) {:.3}",
            a.base_clusters.len(),
            pure as f64 / truth.len() as f64,
            adjusted_rand_index(&ceiling, &truth)
        );

        // Group level on our base clusters.
        let names: Vec<usize> = a.base_clusters.iter().map(|c| c.id as usize).collect();
        let centers: Vec<[f64; 2]> = a.base_clusters.iter().map(|c| c.center).collect();
        let weights: Vec<f64> = a.base_clusters.iter().map(|c| c.members.len() as f64).collect();
        let pts = Points::new(names.clone(), centers.clone(), Some(weights.clone()));
        let maj_lab: Vec<usize> = a.base_clusters.iter().map(|c| majority[&c.id]).collect();
        println!(
            "  group level, Polis-majority partition of base clusters: weighted inertia {:.2}",
            inertia(&centers, &weights, &maj_lab, kp)
        );
        let to_part = |groups: &[Cluster]| -> Vec<usize> {
            let mut g_of: HashMap<usize, usize> = HashMap::new();
            for (gi, g) in groups.iter().enumerate() {
                for &m in &g.members {
                    g_of.insert(m, gi);
                }
            }
            both.iter().map(|p| g_of[&(p.base_cluster.unwrap() as usize)]).collect()
        };
        for k in 2..=5 {
            let cold = kmeans(&pts, k, None, 20);
            let lab: Vec<usize> = {
                let mut g_of: HashMap<usize, usize> = HashMap::new();
                for (gi, g) in cold.iter().enumerate() {
                    for &m in &g.members {
                        g_of.insert(m, gi);
                    }
                }
                names.iter().map(|n| g_of[n]).collect()
            };
            let cold_conv = kmeans(&pts, k, None, 1000);
            let lab_conv: Vec<usize> = {
                let mut g_of: HashMap<usize, usize> = HashMap::new();
                for (gi, g) in cold_conv.iter().enumerate() {
                    for &m in &g.members {
                        g_of.insert(m, gi);
                    }
                }
                names.iter().map(|n| g_of[n]).collect()
            };
            let (best, e) = lloyd_best(&centers, &weights, k, 50, 7);
            let best_groups: Vec<Cluster> = (0..k)
                .map(|g| Cluster {
                    id: g as u32,
                    members: names.iter().zip(&best).filter(|(_, &l)| l == g).map(|(&n, _)| n).collect(),
                    center: [0.0, 0.0],
                })
                .filter(|c| !c.members.is_empty())
                .collect();
            println!(
                "  k={k}: Polis-init(20it) inertia {:.2} sil {:.3} ARI {:.3} | Polis-init(conv) inertia {:.2} ARI {:.3} | best-of-50 inertia {:.2} sil {:.3} ARI {:.3}",
                inertia(&centers, &weights, &lab, k),
                silhouette(&names, &centers, &cold),
                adjusted_rand_index(&to_part(&cold), &truth),
                inertia(&centers, &weights, &lab_conv, k),
                adjusted_rand_index(&to_part(&cold_conv), &truth),
                e,
                silhouette(&names, &centers, &best_groups),
                adjusted_rand_index(&to_part(&best_groups), &truth),
            );
        }
    }
}

fn replay_variants(dirs: &[PathBuf]) {
    use commonground::{Batching, Conversation, Restarts};
    let only: Vec<String> = std::env::args().skip(3).collect();
    let day = 86_400_000;
    let variants: Vec<(&str, Batching)> = vec![
        ("final restart (default)", Batching::default()),
        ("no restarts", Batching { restarts: Restarts::None, ..Batching::default() }),
        ("restarts at gaps of 1 day", Batching { restarts: Restarts::Gaps(day), ..Batching::default() }),
        ("restarts at gaps of 1 hour", Batching { restarts: Restarts::Gaps(day / 24), ..Batching::default() }),
        (
            "2,000-update cap, no restarts",
            Batching { max_updates: Some(2000), restarts: Restarts::None, ..Batching::default() },
        ),
    ];
    for dir in dirs {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        if !only.is_empty() && !only.iter().any(|o| name.starts_with(o.as_str())) {
            continue;
        }
        let data = io::load(dir).unwrap();
        let polis = polis_groups(dir);
        for (label, b) in &variants {
            let t = std::time::Instant::now();
            let conv = Conversation::replay(params(), data.statements.clone(), &data.votes, b).unwrap();
            let a = conv.analysis().unwrap();
            let (o, th): (Vec<u32>, Vec<&String>) =
                a.participants.iter().filter_map(|p| Some((p.group?, polis.get(&p.id)?))).unzip();
            println!(
                "{name} [{label}]: updates {} in-conv {} (Polis grouped {}) k {:?} best {:?} sil {:?} ARI {:.3} ({:.1}s)",
                a.tick,
                a.participants.iter().filter(|p| p.in_conv).count(),
                polis.len(),
                a.k_selection.k,
                a.k_selection.best_k,
                a.k_selection.silhouettes.iter().map(|(k, s)| format!("{k}:{s:.3}")).collect::<Vec<_>>(),
                adjusted_rand_index(&o, &th),
                t.elapsed().as_secs_f64()
            );
        }
    }
}
