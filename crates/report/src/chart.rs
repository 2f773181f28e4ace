//! The review's charts as inline SVG: grouped bars and lines, behind two functions so the
//! drawing library (plotters, SVG backend, no fonts needed: text is emitted as SVG `<text>`)
//! can be swapped without touching the pages.
//!
//! A chart with nothing to draw says so in words instead of showing empty axes.

use plotters::{
    coord::Shift,
    prelude::*,
    style::text_anchor::{HPos, Pos, VPos},
};

use crate::ReviewError;

/// The Okabe–Ito palette: distinguishable with the common colour-vision deficiencies and in
/// greyscale print.
pub(crate) const PALETTE: [RGBColor; 6] = [
    RGBColor(0x00, 0x72, 0xB2),
    RGBColor(0xE6, 0x9F, 0x00),
    RGBColor(0x00, 0x9E, 0x73),
    RGBColor(0xCC, 0x79, 0xA7),
    RGBColor(0x56, 0xB4, 0xE9),
    RGBColor(0xD5, 0x5E, 0x00),
];

const WIDTH: u32 = 720;
const HEIGHT: u32 = 300;
const LEGEND: u32 = 28;
const FONT: &str = "sans-serif";

/// One series: a name and a value per x label (`None` where there is no value).
#[derive(Debug, Clone)]
pub(crate) struct Series {
    pub name: String,
    pub values: Vec<Option<f64>>,
}

/// What a chart shows.
#[derive(Debug, Clone)]
pub(crate) struct Chart {
    /// Used as the SVG's accessible name.
    pub title: String,
    pub x_labels: Vec<String>,
    pub series: Vec<Series>,
    pub y_label: String,
    /// Values are percentages (0–100); the axis then always runs to 100.
    pub percent: bool,
}

impl Chart {
    /// Whether anything would be drawn: some value, where a count of zero is nothing but a
    /// share of 0 % is a finding.
    pub fn has_data(&self) -> bool {
        self.series
            .iter()
            .flat_map(|s| s.values.iter().flatten())
            .any(|v| self.percent || *v > 0.0)
    }

    fn y_max(&self) -> f64 {
        if self.percent {
            return 100.0;
        }
        let max = self
            .series
            .iter()
            .flat_map(|s| s.values.iter().flatten())
            .fold(0.0_f64, |a, b| a.max(*b));
        nice_ceiling(max * 1.12)
    }

    /// How many y labels to ask for: counts get a tick per whole number up to six, so no
    /// axis of requests reads 0.5; the axis maximum is 1, 2 or 5 × 10ⁿ, so plotters' steps of
    /// 1, 2 or 5 × 10ᵏ then fall on whole numbers too.
    fn y_label_count(&self) -> usize {
        if self.percent {
            return 6;
        }
        // y_max is a whole number between 1 and 10¹⁵ or so; the cast cannot lose it.
        (self.y_max() as usize).saturating_add(1).min(6)
    }

    fn label(&self, v: f64) -> String {
        if self.percent {
            format!("{v:.0}%")
        } else if v.fract() == 0.0 {
            format!("{v:.0}")
        } else {
            format!("{v:.1}")
        }
    }

    fn error(&self) -> impl Fn(String) -> ReviewError + '_ {
        move |reason| ReviewError::Chart {
            chart: self.title.clone(),
            reason,
        }
    }
}

/// The smallest 1, 2 or 5 × 10ⁿ at or above `v` (at least 1).
fn nice_ceiling(v: f64) -> f64 {
    if v <= 1.0 {
        return 1.0;
    }
    let magnitude = 10f64.powf(v.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|c| *c >= v)
        .unwrap_or(10.0 * magnitude)
}

fn color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// Grouped bars: one group per x label, one bar per series, each labelled with its value.
pub(crate) fn bars(c: &Chart) -> Result<String, ReviewError> {
    if !c.has_data() {
        return Ok(no_data(&c.title));
    }
    let err = c.error();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| err(format!("{e:?}")))?;
        let (top, area) = root.split_vertically(LEGEND);
        legend(&top, c).map_err(&err)?;
        let n = c.x_labels.len().max(1);
        let mut chart = ChartBuilder::on(&area)
            .margin_left(8)
            .margin_right(16)
            .margin_top(6)
            .x_label_area_size(38)
            .y_label_area_size(62)
            .build_cartesian_2d(0f64..n as f64, 0f64..c.y_max())
            .map_err(|e| err(format!("{e:?}")))?;
        axes(&mut chart, c).map_err(&err)?;
        x_labels(&mut chart, &c.x_labels, 0.5).map_err(&err)?;
        let ns = c.series.len().max(1) as f64;
        let group = 0.8;
        let width = group / ns;
        for (si, s) in c.series.iter().enumerate() {
            let colour = color(si);
            // A count of zero draws nothing; a share of 0 % is labelled.
            let bars = s
                .values
                .iter()
                .enumerate()
                .filter_map(|(i, v)| v.map(|v| (i, v)))
                .filter(|(_, v)| c.percent || *v > 0.0);
            let x0 = |i: usize| i as f64 + (1.0 - group) / 2.0 + si as f64 * width;
            chart
                .draw_series(bars.clone().map(|(i, v)| {
                    Rectangle::new(
                        [(x0(i) + width * 0.06, 0.0), (x0(i) + width * 0.94, v)],
                        colour.filled(),
                    )
                }))
                .map_err(|e| err(format!("{e:?}")))?;
            chart
                .draw_series(bars.map(|(i, v)| {
                    Text::new(
                        c.label(v),
                        (x0(i) + width / 2.0, v),
                        (FONT, 16)
                            .into_font()
                            .color(&RGBColor(0x33, 0x33, 0x33))
                            .pos(Pos::new(HPos::Center, VPos::Bottom)),
                    )
                }))
                .map_err(|e| err(format!("{e:?}")))?;
        }
        root.present().map_err(|e| err(format!("{e:?}")))?;
    }
    Ok(finish(svg, &c.title))
}

/// Lines with a dot at each value; a `None` breaks the line.
pub(crate) fn lines(c: &Chart) -> Result<String, ReviewError> {
    if !c.has_data() {
        return Ok(no_data(&c.title));
    }
    let err = c.error();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| err(format!("{e:?}")))?;
        let (top, area) = root.split_vertically(LEGEND);
        legend(&top, c).map_err(&err)?;
        let n = c.x_labels.len().max(1) as f64;
        let mut chart = ChartBuilder::on(&area)
            .margin_left(8)
            .margin_right(16)
            .margin_top(10)
            .x_label_area_size(38)
            .y_label_area_size(62)
            .build_cartesian_2d(-0.5f64..n - 0.5, 0f64..c.y_max())
            .map_err(|e| err(format!("{e:?}")))?;
        axes(&mut chart, c).map_err(&err)?;
        x_labels(&mut chart, &c.x_labels, 0.0).map_err(&err)?;
        for (si, s) in c.series.iter().enumerate() {
            let colour = color(si);
            let mut run: Vec<(f64, f64)> = Vec::new();
            let mut runs = Vec::new();
            for (i, v) in s.values.iter().enumerate() {
                match v {
                    Some(v) => run.push((i as f64, *v)),
                    None if !run.is_empty() => runs.push(std::mem::take(&mut run)),
                    None => {}
                }
            }
            if !run.is_empty() {
                runs.push(run);
            }
            for run in runs {
                // Lines of equal values would hide each other: the first series is drawn
                // wide and solid with round dots, the others narrower and dashed with
                // triangles, so each stays visible on top of the one before.
                if si == 0 {
                    chart
                        .draw_series(LineSeries::new(run.iter().copied(), colour.stroke_width(4)))
                        .map_err(|e| err(format!("{e:?}")))?;
                    chart
                        .draw_series(run.iter().map(|p| Circle::new(*p, 5, colour.filled())))
                        .map_err(|e| err(format!("{e:?}")))?;
                } else {
                    chart
                        .draw_series(DashedLineSeries::new(
                            run.iter().copied(),
                            9,
                            5,
                            colour.stroke_width(2),
                        ))
                        .map_err(|e| err(format!("{e:?}")))?;
                    chart
                        .draw_series(
                            run.iter()
                                .map(|p| TriangleMarker::new(*p, 5, colour.filled())),
                        )
                        .map_err(|e| err(format!("{e:?}")))?;
                }
                // A point standing alone has no line to read it by: it gets its value.
                if let [(x, v)] = run.as_slice() {
                    chart
                        .draw_series(std::iter::once(Text::new(
                            c.label(*v),
                            (*x, *v),
                            (FONT, 16)
                                .into_font()
                                .color(&RGBColor(0x33, 0x33, 0x33))
                                .pos(Pos::new(HPos::Center, VPos::Bottom)),
                        )))
                        .map_err(|e| err(format!("{e:?}")))?;
                }
            }
        }
        root.present().map_err(|e| err(format!("{e:?}")))?;
    }
    Ok(finish(svg, &c.title))
}

type Plot<'a, 'b> = ChartContext<
    'a,
    SVGBackend<'b>,
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
>;

/// Writes the x labels under the axis, centred at `i + offset`.
/// The y axis with its grid and label; x labels are drawn by `x_labels`.
fn axes(chart: &mut Plot<'_, '_>, c: &Chart) -> Result<(), String> {
    let y_fmt = |v: &f64| c.label(*v);
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .y_labels(c.y_label_count())
        .y_label_formatter(&y_fmt)
        .y_desc(c.y_label.as_str())
        .label_style((FONT, 17))
        .axis_desc_style((FONT, 17))
        .max_light_lines(0)
        .bold_line_style(RGBColor(0xdd, 0xdd, 0xdd))
        .draw()
        .map_err(|e| format!("{e:?}"))
}

fn x_labels(chart: &mut Plot<'_, '_>, labels: &[String], offset: f64) -> Result<(), String> {
    let style = (FONT, 17)
        .into_font()
        .color(&RGBColor(0x33, 0x33, 0x33))
        .pos(Pos::new(HPos::Center, VPos::Top));
    chart
        .draw_series(labels.iter().enumerate().map(|(i, l)| {
            EmptyElement::at((i as f64 + offset, 0.0)) + Text::new(l.clone(), (0, 8), style.clone())
        }))
        .map(|_| ())
        .map_err(|e| format!("{e:?}"))
}

/// The series' names with their colours, along the top.
fn legend(area: &DrawingArea<SVGBackend<'_>, Shift>, c: &Chart) -> Result<(), String> {
    let mut x = 64;
    for (i, s) in c.series.iter().enumerate() {
        let colour = color(i);
        area.draw(&Rectangle::new([(x, 9), (x + 12, 21)], colour.filled()))
            .map_err(|e| format!("{e:?}"))?;
        area.draw(&Text::new(
            s.name.clone(),
            (x + 17, 15),
            (FONT, 17)
                .into_font()
                .color(&RGBColor(0x22, 0x22, 0x22))
                .pos(Pos::new(HPos::Left, VPos::Center)),
        ))
        .map_err(|e| format!("{e:?}"))?;
        x += 40 + 8 * i32::try_from(s.name.chars().count()).unwrap_or(20);
    }
    Ok(())
}

/// Makes plotters' document an inline HTML element: no XML namespace (inline SVG needs none,
/// and the page then names no external address at all), an accessible name and a title.
fn finish(svg: String, title: &str) -> String {
    let t = escape(title);
    let svg = svg.replacen(" xmlns=\"http://www.w3.org/2000/svg\"", "", 1);
    match svg.find('>') {
        Some(i) if svg.starts_with("<svg") => format!(
            "{} role=\"img\" aria-label=\"{t}\"><title>{t}</title>{}",
            &svg[..i],
            &svg[i + 1..]
        ),
        _ => svg,
    }
}

/// The note shown instead of a chart with nothing to draw.
pub(crate) fn no_data(title: &str) -> String {
    let t = escape(title);
    format!(
        "<svg class=\"no-data\" width=\"{WIDTH}\" height=\"72\" viewBox=\"0 0 {WIDTH} 72\" role=\"img\" \
         aria-label=\"{t}: no data\"><title>{t}: no data</title>\
         <rect x=\"0.5\" y=\"0.5\" width=\"{w}\" height=\"71\" fill=\"#fafafa\" stroke=\"#bbbbbb\" \
         stroke-dasharray=\"4 3\"/><text x=\"{x}\" y=\"41\" text-anchor=\"middle\" \
         font-family=\"{FONT}\" font-size=\"14\" fill=\"#555555\">No data in this period</text></svg>",
        w = WIDTH - 1,
        x = WIDTH / 2,
    )
}

/// Escapes text for HTML and SVG content and attribute values.
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart(values: Vec<Option<f64>>, percent: bool) -> Chart {
        Chart {
            title: "Test <chart>".into(),
            x_labels: vec!["a".into(), "b&c".into()],
            series: vec![Series {
                name: "US → CN".into(),
                values,
            }],
            y_label: "requests".into(),
            percent,
        }
    }

    #[test]
    fn bars_are_drawn_in_the_series_colour_with_escaped_labels() {
        let svg = bars(&chart(vec![Some(3.0), Some(5.0)], false)).expect("drawn");
        assert!(svg.starts_with("<svg "));
        assert!(svg.contains("role=\"img\""));
        assert!(svg.contains("<title>Test &lt;chart&gt;</title>"));
        assert!(svg.contains("fill=\"#0072B2\""), "{svg}");
        assert!(svg.contains("\nb&amp;c\n"), "{svg}");
        assert!(svg.contains("<text"));
        assert!(!svg.contains("http"));
    }

    #[test]
    fn lines_are_drawn_as_polylines_with_dots() {
        let svg = lines(&chart(vec![Some(50.0), Some(75.0)], true)).expect("drawn");
        assert!(svg.contains("<polyline"), "{svg}");
        assert!(svg.contains("<circle"));
    }

    #[test]
    fn a_chart_without_values_says_there_is_no_data() {
        let svg = bars(&chart(vec![None, Some(0.0)], false)).expect("drawn");
        assert!(svg.contains("No data in this period"));
        assert!(!svg.contains("#0072B2"));
        // A share of 0 % is a finding, not an absence of data.
        let svg = bars(&chart(vec![Some(0.0), None], true)).expect("drawn");
        assert!(!svg.contains("No data"));
    }

    #[test]
    fn equal_lines_both_stay_visible_and_a_lone_point_is_labelled() {
        // Regression: with both directions at the same count one line hid the other, and a
        // series with a single value showed an unlabelled dot.
        let c = Chart {
            title: "Requests filed, by period".into(),
            x_labels: vec!["2026-H1".into(), "2026-H2".into(), "2027-H1".into()],
            series: vec![
                Series {
                    name: "CN → US".into(),
                    values: vec![Some(3.0), Some(3.0), None],
                },
                Series {
                    name: "US → CN".into(),
                    values: vec![Some(3.0), Some(3.0), None],
                },
                Series {
                    name: "GB → US".into(),
                    values: vec![None, Some(7.0), None],
                },
            ],
            y_label: "requests".into(),
            percent: false,
        };
        let svg = lines(&c).expect("drawn");
        assert!(svg.contains("stroke=\"#0072B2\"") && svg.contains("stroke-width=\"4\""));
        assert!(
            svg.contains("stroke=\"#E69F00\""),
            "the second line is drawn: {svg}"
        );
        assert!(
            svg.contains("<polygon") || svg.contains("<path"),
            "triangles mark it"
        );
        assert!(
            svg.contains(">7<") || svg.contains("\n7\n"),
            "the lone point is labelled: {svg}"
        );
    }

    #[test]
    fn count_axes_have_whole_number_ticks() {
        // Regression: a chart of one request had ticks at 0.2, 0.4, ...
        for max in [1.0, 2.0, 3.0, 7.0, 12.0, 40.0] {
            let svg = bars(&chart(vec![Some(max), Some(1.0)], false)).expect("drawn");
            let texts: Vec<&str> = svg
                .split("<text")
                .skip(1)
                .filter_map(|t| t.split('>').nth(1))
                .map(|t| t.split('<').next().unwrap_or_default().trim())
                .collect();
            assert!(
                texts.iter().all(|t| !t.contains('.')),
                "fractional tick at max {max}: {texts:?}"
            );
        }
    }

    #[test]
    fn axis_maxima_are_round_numbers() {
        assert_eq!(nice_ceiling(0.3), 1.0);
        assert_eq!(nice_ceiling(3.4), 5.0);
        assert_eq!(nice_ceiling(37.0), 50.0);
        assert_eq!(nice_ceiling(100.0), 100.0);
        assert_eq!(nice_ceiling(101.0), 200.0);
    }
}
