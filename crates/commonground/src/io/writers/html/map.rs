//! The opinion map as inline SVG: every participant a small mark, each group with its own colour
//! *and* shape (so that the groups stay apart in print and for colour-blind readers), the
//! participants who are not clustered drawn last as hollow grey rings so that no group's cloud
//! hides them, and each group's representative statements as numbered points.
//!
//! A statement's point is where a participant who agreed with it alone would sit
//! ([`crate::analysis::StatementResult::projection`]). Those sit far outside the participants'
//! cloud (Polis scales a participant's projection by how few statements they voted on), so all the
//! statement points are scaled by one common factor that brings the farthest to the edge of the
//! cloud: directions and relative distances are kept, and the caption says so.

use std::fmt::Write;

use super::{escape, group_name};
use crate::analysis::Analysis;
use crate::io::writers::summary::{count, id_label};

const WIDTH: f64 = 760.0;
const HEIGHT: f64 = 500.0;
const MARGIN: f64 = 24.0;
/// Approximate width of one character of a statement number at the label's font size.
const DIGIT_WIDTH: f64 = 7.5;
const LABEL_HEIGHT: f64 = 15.0;

/// One colour and one shape per group, in group order (cycled past six). Okabe and Ito's
/// colour-blind-safe palette.
pub(super) const COLOURS: [&str; 6] = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9"];
pub(super) const SHAPES: [&str; 6] = ["circle", "square", "triangle", "diamond", "cross", "triangle down"];

/// The path of group `g`'s mark, centred on (0, 0), about `r` across its half.
fn shape_path(g: usize, r: f64) -> String {
    match g % SHAPES.len() {
        0 => format!("M{0},0a{r},{r} 0 1,0 {1},0a{r},{r} 0 1,0 {2},0z", -r, 2.0 * r, -2.0 * r),
        1 => format!("M{0},{0}h{1}v{1}h{2}z", -0.85 * r, 1.7 * r, -1.7 * r),
        2 => format!("M0,{0}L{1},{2}L{3},{2}z", -1.15 * r, 1.05 * r, 0.75 * r, -1.05 * r),
        3 => format!("M0,{0}L{1},0L0,{1}L{0},0z", -1.2 * r, 1.2 * r),
        4 => {
            let (a, b) = (0.4 * r, 1.1 * r);
            format!(
                "M{na},{nb}h{w}v{d}h{d}v{w}h{nd}v{d}h{nw}v{nd}h{nd}v{nw}h{d}z",
                na = -a,
                nb = -b,
                w = 2.0 * a,
                d = b - a,
                nd = a - b,
                nw = -2.0 * a
            )
        }
        _ => format!("M0,{0}L{1},{2}L{3},{2}z", 1.15 * r, 1.05 * r, -0.75 * r, -1.05 * r),
    }
}

/// A small standalone SVG of group `g`'s mark, for legends and headings.
pub(super) fn group_icon(g: usize) -> String {
    format!(
        "<svg class=\"icon\" viewBox=\"-6 -6 12 12\" width=\"12\" height=\"12\" aria-hidden=\"true\"><path d=\"{}\" \
         fill=\"{}\"/></svg>",
        shape_path(g, 4.5),
        COLOURS[g % COLOURS.len()]
    )
}

/// The statements drawn on the map: each group's representative statements, once each, in group
/// order.
pub(super) fn mapped_statements(a: &Analysis) -> Vec<usize> {
    let mut shown: Vec<usize> = Vec::new();
    for reps in &a.repness {
        for r in reps {
            if let Some(j) = a.statements.iter().position(|s| s.id == r.statement) {
                if !shown.contains(&j) {
                    shown.push(j);
                }
            }
        }
    }
    shown
}

/// Maps the analysis's coordinates onto the drawing, one scale for both axes (the map's
/// distances mean the same in every direction), y up.
struct Frame {
    scale: f64,
    x0: f64,
    y0: f64,
}

impl Frame {
    fn new(points: impl Iterator<Item = (f64, f64)>) -> Frame {
        let (mut xmin, mut xmax, mut ymin, mut ymax) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
        for (x, y) in points.filter(|(x, y)| x.is_finite() && y.is_finite()) {
            (xmin, xmax, ymin, ymax) = (xmin.min(x), xmax.max(x), ymin.min(y), ymax.max(y));
        }
        let span_x = (xmax - xmin).max(1e-9);
        let span_y = (ymax - ymin).max(1e-9);
        let scale = ((WIDTH - 2.0 * MARGIN) / span_x).min((HEIGHT - 2.0 * MARGIN) / span_y);
        // Centre the cloud in the drawing.
        let x0 = WIDTH / 2.0 - scale * (xmin + xmax) / 2.0;
        let y0 = HEIGHT / 2.0 + scale * (ymin + ymax) / 2.0;
        Frame { scale, x0, y0 }
    }

    fn at(&self, x: f64, y: f64) -> (f64, f64) {
        (self.x0 + self.scale * x, self.y0 - self.scale * y)
    }
}

/// Places labels of the given sizes next to their points, moving each down or up by a line
/// until it overlaps no label placed before it, and keeps it inside the drawing.
fn place_labels(anchors: &[(f64, f64, f64)]) -> Vec<(f64, f64)> {
    let mut placed: Vec<(f64, f64, f64)> = Vec::new();
    let overlaps = |x: f64, y: f64, w: f64, placed: &[(f64, f64, f64)]| {
        placed.iter().any(|&(px, py, pw)| x < px + pw && px < x + w && (y - py).abs() < LABEL_HEIGHT)
    };
    anchors
        .iter()
        .map(|&(ax, ay, w)| {
            let x = (ax + 5.0).clamp(2.0, WIDTH - w - 2.0);
            let mut y = ay + 4.0;
            for step in 0..24 {
                let offset = (step as f64 / 2.0).ceil() * LABEL_HEIGHT * if step % 2 == 1 { 1.0 } else { -1.0 };
                let candidate = (ay + 4.0 + offset).clamp(LABEL_HEIGHT, HEIGHT - 4.0);
                if !overlaps(x, candidate, w, &placed) {
                    y = candidate;
                    break;
                }
            }
            placed.push((x, y, w));
            (x, y)
        })
        .collect()
}

/// The `<svg>` element of the opinion map, with its title and text description.
pub(super) fn opinion_map(a: &Analysis) -> String {
    let frame = Frame::new(a.participants.iter().map(|p| (p.x, p.y)));
    let group_index = |id: u32| a.groups.iter().position(|g| g.id == id);
    let unclustered = a.participants.iter().filter(|p| p.group.is_none()).count();
    let mut svg = String::new();

    let groups_desc: Vec<String> = a
        .groups
        .iter()
        .enumerate()
        .map(|(g, grp)| {
            format!("{} ({} participants, {}s)", group_name(grp.id), count(grp.n_members), SHAPES[g % SHAPES.len()])
        })
        .collect();
    let _ = write!(
        svg,
        "<svg class=\"map\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" aria-labelledby=\"map-title map-desc\" \
         xmlns=\"http://www.w3.org/2000/svg\"><title id=\"map-title\">Opinion map</title><desc id=\"map-desc\">{} \
         participants placed by how they voted: participants who voted alike are close. {}{} not clustered (hollow \
         grey rings). Numbered points are the groups' representative statements, listed below the map.</desc>",
        a.participants.len(),
        if groups_desc.is_empty() {
            "No opinion groups. ".to_string()
        } else {
            format!("{}. ", groups_desc.join("; "))
        },
        unclustered
    );
    svg.push_str("<defs>");
    for g in 0..a.groups.len() {
        let _ = write!(
            svg,
            "<path id=\"m{g}\" d=\"{}\" fill=\"{}\" fill-opacity=\"0.55\"/>",
            shape_path(g, 3.2),
            COLOURS[g % COLOURS.len()]
        );
    }
    svg.push_str(
        "<circle id=\"mu\" r=\"2.4\" fill=\"none\" stroke=\"#4a4a4a\" stroke-opacity=\"0.45\" stroke-width=\"0.8\"/></defs>",
    );
    let _ = write!(
        svg,
        "<rect class=\"frame\" x=\"0.5\" y=\"0.5\" width=\"{}\" height=\"{}\"/>",
        WIDTH - 1.0,
        HEIGHT - 1.0
    );

    // Groups first, then the unclustered on top.
    for g in 0..a.groups.len() {
        let _ = write!(svg, "<g class=\"group-points\"><title>{}</title>", group_name(a.groups[g].id));
        for p in a.participants.iter().filter(|p| p.group.and_then(group_index) == Some(g)) {
            let (x, y) = frame.at(p.x, p.y);
            let _ = write!(svg, "<use href=\"#m{g}\" x=\"{x:.1}\" y=\"{y:.1}\"/>");
        }
        svg.push_str("</g>");
    }
    svg.push_str("<g class=\"unclustered\"><title>Not clustered</title>");
    for p in a.participants.iter().filter(|p| p.group.is_none()) {
        let (x, y) = frame.at(p.x, p.y);
        let _ = write!(svg, "<use href=\"#mu\" x=\"{x:.1}\" y=\"{y:.1}\"/>");
    }
    svg.push_str("</g>");

    // Group names at their centres.
    for (g, grp) in a.groups.iter().enumerate() {
        let (x, y) = frame.at(grp.center[0], grp.center[1]);
        let _ = write!(
            svg,
            "<text class=\"group-label\" x=\"{x:.1}\" y=\"{y:.1}\" fill=\"{}\">{}</text>",
            COLOURS[g % COLOURS.len()],
            group_name(grp.id)
        );
    }

    // The statements, scaled together so that the farthest lands at the cloud's edge.
    let shown = mapped_statements(a);
    let reach = a.participants.iter().map(|p| p.x.hypot(p.y)).filter(|d| d.is_finite()).fold(0.0f64, f64::max);
    let farthest = shown.iter().map(|&j| a.statements[j].extremity).filter(|d| d.is_finite()).fold(0.0f64, f64::max);
    let factor = if farthest > 0.0 { 0.9 * reach / farthest } else { 0.0 };
    let anchors: Vec<(f64, f64, f64)> = shown
        .iter()
        .map(|&j| {
            let [x, y] = a.statements[j].projection;
            let (px, py) = frame.at(factor * x, factor * y);
            let label = id_label(&a.statements[j].id);
            (px, py, DIGIT_WIDTH * label.chars().count() as f64)
        })
        .collect();
    let labels = place_labels(&anchors);
    svg.push_str("<g class=\"statements\">");
    for ((&j, &(px, py, _)), &(lx, ly)) in shown.iter().zip(&anchors).zip(&labels) {
        let s = &a.statements[j];
        let label = id_label(&s.id);
        let _ = write!(
            svg,
            "<g class=\"statement\"><title>{label}: {}</title><circle cx=\"{px:.1}\" cy=\"{py:.1}\" r=\"3\"/>\
             <text x=\"{lx:.1}\" y=\"{ly:.1}\">{label}</text></g>",
            escape(s.text.as_deref().unwrap_or("(no text)"))
        );
    }
    svg.push_str("</g></svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_that_would_overlap_are_moved_apart_and_stay_inside_the_drawing() {
        // Three labels anchored at one point, and one beyond the right edge.
        let anchors = [(100.0, 100.0, 20.0), (100.0, 100.0, 20.0), (100.0, 100.0, 20.0), (WIDTH + 50.0, 0.0, 30.0)];
        let placed = place_labels(&anchors);
        for i in 0..3 {
            for k in 0..i {
                assert!((placed[i].1 - placed[k].1).abs() >= LABEL_HEIGHT, "{placed:?}");
            }
        }
        let (x, y) = placed[3];
        assert!(x + 30.0 <= WIDTH && y >= LABEL_HEIGHT, "{placed:?}");
    }

    #[test]
    fn the_frame_keeps_one_scale_for_both_axes_and_flips_y() {
        let frame = Frame::new([(-1.0, -0.5), (1.0, 0.5)].into_iter());
        let (x1, y1) = frame.at(-1.0, -0.5);
        let (x2, y2) = frame.at(1.0, 0.5);
        assert!(((x2 - x1) / 2.0 - (y1 - y2) / 1.0).abs() < 1e-9);
        assert!(y2 < y1, "y grows upwards on the map");
        assert!(x1 >= MARGIN - 1e-9 && x2 <= WIDTH - MARGIN + 1e-9);
    }
}
