import { useState } from "react";
import { PRESETS, describeRange, presetRange, rangeProblem, type Range } from "../range";

export function RangePicker({ range, onChange }: { range: Range; onChange: (range: Range) => void }) {
  const [custom, setCustom] = useState(range.preset === "custom");
  const [start, setStart] = useState(range.start);
  const [end, setEnd] = useState(range.end);
  const problem = custom ? rangeProblem(start, end) : null;

  return (
    <div className="range">
      <div className="segmented" role="group" aria-label="Date range">
        {PRESETS.map((preset) => (
          <button
            key={preset.value}
            type="button"
            title={preset.title}
            aria-pressed={!custom && range.preset === preset.value}
            onClick={() => {
              setCustom(false);
              onChange(presetRange(preset.value));
            }}
          >
            {preset.label}
          </button>
        ))}
        <button
          type="button"
          aria-pressed={custom}
          aria-expanded={custom}
          onClick={() => {
            setCustom(true);
            setStart(range.start);
            setEnd(range.end);
          }}
        >
          Custom
        </button>
      </div>
      {custom && (
        <form
          className="range-custom"
          onSubmit={(event) => {
            event.preventDefault();
            if (!problem) onChange({ preset: "custom", start, end });
          }}
        >
          <label>
            From
            <input type="date" value={start} onChange={(e) => setStart(e.target.value)} required />
          </label>
          <label>
            To
            <input type="date" value={end} onChange={(e) => setEnd(e.target.value)} required />
          </label>
          <button type="submit" className="button button-primary" disabled={problem !== null}>
            Apply
          </button>
          {problem && (
            <span className="field-error" role="alert">
              {problem}
            </span>
          )}
        </form>
      )}
      <span className="range-caption" data-testid="range-caption">
        {describeRange(range)}
      </span>
    </div>
  );
}
