/**
 * What the report says about the staged rows (rows, NULLs per column, true values of the flag columns),
 * counted from the record batches as they stream to the blob store, so the table is never held whole.
 */
import { type RecordBatch, type Schema, Type } from 'apache-arrow';

export class BatchCounts {
  rows = 0;
  readonly nulls: number[];
  private readonly trues = new Map<string, number>();

  constructor(private readonly schema: Schema) {
    this.nulls = schema.fields.map(() => 0);
  }

  /** Passes `batches` through, counting each. */
  async *count(batches: AsyncIterable<RecordBatch>): AsyncGenerator<RecordBatch> {
    for await (const batch of batches) {
      this.add(batch);
      yield batch;
    }
  }

  /** True values of a Bool column (0 for any other name). */
  trueCount(name: string): number {
    return this.trues.get(name) ?? 0;
  }

  private add(batch: RecordBatch): void {
    this.rows += batch.numRows;
    this.schema.fields.forEach((field, i) => {
      const column = batch.getChildAt(i);
      if (!column) return;
      this.nulls[i]! += column.nullCount;
      if (field.type.typeId !== Type.Bool) return;
      let n = 0;
      for (const value of column) if (value === true) n++;
      this.trues.set(field.name, (this.trues.get(field.name) ?? 0) + n);
    });
  }
}
