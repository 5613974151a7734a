//! Dashboard charts drawn on the server as SVG by `plotters` (its SVG backend writing into a
//! String; no JavaScript, no font files: text is laid out by plotters' naive estimate and drawn by
//! the browser). The SVG uses presentation attributes only (`fill`, `stroke`, `font-size`), never a
//! `style` attribute, so it is inlined in the page under the CSP (`style-src 'self'`); the
//! stylesheet makes it scale to the width of the screen (`.chart svg`). Each chart has its table
//! right below it on the page: the chart is the picture, the table the figures.
//!
//! Money arrives exact (ten-thousandths) and becomes `f64` here only, as a drawing coordinate.

use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

/// The drawing's size in SVG units (its viewBox); the page scales it to fit.
/// Small enough that its text stays legible on a 390 px phone (about 0.7×), and the stylesheet caps
/// its width on a desktop (about 1.3×).
const SIZE: (u32, u32) = (480, 300);
const FONT: &str = "sans-serif";

/// A fixed colour per channel (the same on every chart), and for other series in turn.
pub fn channel_colour(channel: &str) -> RGBColor {
    match channel {
        "portal" => RGBColor(0x1f, 0x6f, 0xb2),
        "punchout" => RGBColor(0x5a, 0xa9, 0xe6),
        "rep" => RGBColor(0xd9, 0x7a, 0x1c),
        "phone" => RGBColor(0x8a, 0x5a, 0x9e),
        "api" => RGBColor(0x2e, 0x8b, 0x57),
        "edi" => RGBColor(0x7f, 0x7f, 0x7f),
        _ => RGBColor(0x44, 0x44, 0x44),
    }
}

/// One series: its name (legend), colour and one value per label (for money: ten-thousandths);
/// `None` where there is no value (a month without orders has no share): a gap in a line.
pub struct Series {
    pub name: String,
    pub colour: RGBColor,
    pub values: Vec<Option<i64>>,
}

/// How the vertical axis reads its values.
#[derive(Clone, Copy)]
pub enum Unit {
    /// Ten-thousandths of the currency: labelled 1.2k, 3.4M.
    Money,
    /// Tenths of a percent (0..=1000): labelled 0 %..100 %.
    Permille,
}

fn axis_label(unit: Unit, v: f64) -> String {
    match unit {
        Unit::Permille => format!("{:.0}%", v / 10.0),
        Unit::Money => {
            let units = v / 10_000.0;
            if units.abs() >= 1_000_000.0 {
                format!("{:.1}M", units / 1_000_000.0)
            } else if units.abs() >= 1_000.0 {
                format!("{:.0}k", units / 1_000.0)
            } else {
                format!("{units:.0}")
            }
        }
    }
}

fn value(s: &Series, i: usize) -> i64 {
    s.values.get(i).copied().flatten().unwrap_or(0).max(0)
}

/// `2025-03` → `Mar 25`.
fn month_label(month: &str) -> String {
    const NAMES: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let Some((y, m)) = month.split_once('-') else { return month.to_string() };
    let name = m.parse::<usize>().ok().and_then(|m| NAMES.get(m.wrapping_sub(1))).copied().unwrap_or("?");
    format!("{name} {}", y.get(2..).unwrap_or(y))
}

/// Makes the drawing accessible and scalable: a role, a label naming what the table below holds.
fn finish(svg: String, label: &str) -> String {
    let label = label.replace('&', "&amp;").replace('<', "&lt;").replace('"', "&quot;");
    svg.replacen(
        "<svg ",
        &format!("<svg role=\"img\" aria-label=\"{label}\" preserveAspectRatio=\"xMidYMid meet\" "),
        1,
    )
}

/// Draws a chart on a white ground into an SVG text and finishes it ([`finish`]); a chart that
/// cannot be drawn is logged and left out (the table below it still holds the figures).
fn render(label: &str, draw: impl FnOnce(&DrawingArea<SVGBackend<'_>, plotters::coord::Shift>) -> Drawn<()>) -> String {
    let mut svg = String::new();
    let drawn = (|| -> Drawn<()> {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE)?;
        draw(&root)?;
        root.present()?;
        Ok(())
    })();
    if drawn.is_err() {
        tracing::warn!("a dashboard chart could not be drawn");
        return String::new();
    }
    finish(svg, label)
}

type Chart<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;
type Drawn<T> = Result<T, Box<dyn std::error::Error>>;

/// The frame both charts share: one slot per month along the bottom (labelled `Mar 25`, at most
/// four labels), values from 0 to `top` up the side in `unit`, light horizontal grid lines.
fn month_axes<'a, 'b>(
    root: &'a DrawingArea<SVGBackend<'b>, plotters::coord::Shift>,
    months: &[String],
    unit: Unit,
    top: f64,
    y_labels: usize,
) -> Drawn<Chart<'a, 'b>> {
    let n = months.len().max(1);
    let mut chart = ChartBuilder::on(root)
        .margin(8)
        .x_label_area_size(28)
        .y_label_area_size(46)
        .build_cartesian_2d(-0.5f64..n as f64 - 0.5, 0f64..top)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .light_line_style(WHITE)
        .bold_line_style(RGBColor(0xe4, 0xe4, 0xe4))
        .x_labels(n.min(4))
        .x_label_formatter(&|x| {
            let i = x.round();
            if i < 0.0 { String::new() } else { months.get(i as usize).map(|m| month_label(m)).unwrap_or_default() }
        })
        .y_labels(y_labels)
        .y_label_formatter(&|v| axis_label(unit, *v))
        .label_style((FONT, 15))
        .axis_style(RGBColor(0x99, 0x99, 0x99))
        .draw()?;
    Ok(chart)
}

/// The series' names, top left, over a light box.
fn legend<'a, 'b: 'a>(chart: &mut Chart<'a, 'b>) -> Drawn<()> {
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(0xcc, 0xcc, 0xcc))
        .label_font((FONT, 15))
        .draw()?;
    Ok(())
}

/// Stacked bars: one bar per month, a segment per series (e.g. revenue by channel).
pub fn stacked_bars(label: &str, months: &[String], series: &[Series], unit: Unit) -> String {
    render(label, |root| {
        let totals: Vec<i64> = (0..months.len()).map(|i| series.iter().map(|s| value(s, i)).sum()).collect();
        let top = (totals.iter().copied().max().unwrap_or(0) as f64 * 1.1).max(1.0);
        let n = months.len().max(1);
        let mut chart = month_axes(root, months, unit, top, 5)?;
        let mut base = vec![0f64; n];
        for s in series {
            let colour = s.colour;
            let bars: Vec<Rectangle<(f64, f64)>> = (0..months.len())
                .filter_map(|i| {
                    let v = value(s, i) as f64;
                    (v > 0.0).then(|| {
                        let r = Rectangle::new(
                            [(i as f64 - 0.35, base[i]), (i as f64 + 0.35, base[i] + v)],
                            colour.filled(),
                        );
                        base[i] += v;
                        r
                    })
                })
                .collect();
            chart
                .draw_series(bars)?
                .label(s.name.clone())
                .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 12, y + 6)], colour.filled()));
        }
        legend(&mut chart)
    })
}

/// Lines: one per series over the months (e.g. self-service share of orders and of revenue).
pub fn lines(label: &str, months: &[String], series: &[Series], unit: Unit) -> String {
    render(label, |root| {
        let top = match unit {
            Unit::Permille => 1000.0,
            Unit::Money => (series.iter().flat_map(|s| s.values.iter().flatten().copied()).max().unwrap_or(0) as f64
                * 1.1)
                .max(1.0),
        };
        let mut chart = month_axes(root, months, unit, top, 6)?;
        for s in series {
            let colour = s.colour;
            // A line through each run of months with a value; a gap where there is none.
            let mut runs: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
            for (i, v) in s.values.iter().enumerate() {
                match v {
                    Some(v) => runs.last_mut().into_iter().for_each(|r| r.push((i as f64, *v as f64))),
                    None if runs.last().is_some_and(|r| !r.is_empty()) => runs.push(Vec::new()),
                    None => {}
                }
            }
            let points: Vec<(f64, f64)> = runs.iter().flatten().copied().collect();
            chart
                .draw_series(runs.into_iter().map(|r| PathElement::new(r, colour.stroke_width(3))))?
                .label(s.name.clone())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 14, y)], colour.stroke_width(3)));
            chart.draw_series(points.into_iter().map(|p| Circle::new(p, 3, colour.filled())))?;
        }
        legend(&mut chart)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_are_svg_without_style_attributes() {
        let months = vec!["2025-01".to_string(), "2025-02".to_string()];
        let series = vec![
            Series {
                name: "Portal".into(),
                colour: channel_colour("portal"),
                values: vec![Some(10_000), Some(25_000)],
            },
            Series { name: "Phone".into(), colour: channel_colour("phone"), values: vec![Some(5_000), None] },
        ];
        for svg in [
            stacked_bars("Revenue by channel", &months, &series, Unit::Money),
            lines("Share", &months, &series, Unit::Permille),
        ] {
            assert!(svg.starts_with("<svg role=\"img\" aria-label="), "{svg}");
            assert!(svg.contains("viewBox"), "{svg}");
            assert!(!svg.contains("style="), "the CSP forbids inline styles: {svg}");
            assert!(svg.contains("Portal") && svg.contains("Feb 25"), "{svg}");
        }
    }
}
