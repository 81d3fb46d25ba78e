/**
 * Charts (lightweight-charts: candles, lines and bars on canvas, ~45 KB gzipped, no dependencies), times shown in the
 * viewer's zone. Prices and counts are plotted; token amounts never become JS numbers.
 */
import {
  CandlestickSeries,
  HistogramSeries,
  type IChartApi,
  LineSeries,
  type Time,
  type UTCTimestamp,
  createChart,
} from "lightweight-charts";

/** A candle as the API returns it (prices are decimal strings, token B per token A). */
export type Candle = {
  start: string;
  open: string | null;
  high: string | null;
  low: string | null;
  close: string | null;
  swaps: number;
};

const local = (t: Time) => new Date((t as number) * 1000);

function baseChart(el: HTMLElement, height: number): IChartApi {
  return createChart(el, {
    height,
    autoSize: true,
    layout: { background: { color: "#11151c" }, textColor: "#c8d0dc", attributionLogo: false },
    grid: { vertLines: { color: "#1c222c" }, horzLines: { color: "#1c222c" } },
    localization: {
      timeFormatter: (t: Time) => local(t).toLocaleString(undefined, { dateStyle: "short", timeStyle: "short" }),
    },
    timeScale: {
      timeVisible: true,
      secondsVisible: false,
      tickMarkFormatter: (t: Time) => local(t).toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" }),
    },
  });
}

const seconds = (iso: string) => Math.floor(Date.parse(iso) / 1000) as UTCTimestamp;

/** Candles with their swap counts as bars below; returns the chart (the caller removes it with the page). */
export function candleChart(el: HTMLElement, candles: Candle[]): IChartApi {
  const chart = baseChart(el, 320);
  const priced = candles.filter((c) => c.open && c.high && c.low && c.close);
  const series = chart.addSeries(CandlestickSeries, {
    upColor: "#26a69a",
    downColor: "#ef5350",
    wickUpColor: "#26a69a",
    wickDownColor: "#ef5350",
    borderVisible: false,
    priceFormat: { type: "price", precision: 8, minMove: 1e-8 },
  });
  series.setData(
    priced.map((c) => ({ time: seconds(c.start), open: +c.open!, high: +c.high!, low: +c.low!, close: +c.close! })),
  );
  const bars = chart.addSeries(HistogramSeries, {
    priceScaleId: "swaps",
    color: "#3b4a63",
    priceFormat: { type: "volume" },
  });
  chart.priceScale("swaps").applyOptions({ scaleMargins: { top: 0.8, bottom: 0 } });
  bars.setData(candles.map((c) => ({ time: seconds(c.start), value: c.swaps })));
  // a few candles drawn at a readable width at the right edge; many fitted to the box
  if (candles.length > 60) chart.timeScale().fitContent();
  else chart.timeScale().applyOptions({ barSpacing: 14, rightOffset: 4 });
  return chart;
}

/** A live line (the console's lag): `push` appends a point at now. */
export function liveLine(el: HTMLElement, color: string): { chart: IChartApi; push(value: number): void } {
  const chart = baseChart(el, 200);
  chart.applyOptions({ timeScale: { secondsVisible: true } });
  const series = chart.addSeries(LineSeries, {
    color,
    lineWidth: 2,
    priceFormat: { type: "price", precision: 0, minMove: 1 },
  });
  let last = 0;
  return {
    chart,
    push(value) {
      // one point per second at most: the time scale needs strictly increasing times
      const t = Math.max(last + 1, Math.floor(Date.now() / 1000));
      last = t;
      series.update({ time: t as UTCTimestamp, value });
    },
  };
}
