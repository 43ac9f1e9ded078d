/**
 * Parquet schema pieces for the tests that write Parquet files with hyparquet-writer (unit import tests, the
 * annotator e2e test): a UTF-8 text column and a conversation column as datasets/pyarrow write it
 * (list<struct<role, content>>, the 3-level LIST layout).
 */
export const textColumn = (name: string) => ({ name, type: 'BYTE_ARRAY' as const, converted_type: 'UTF8' as const, repetition_type: 'OPTIONAL' as const });

export const conversationColumn = (name: string) => [
  { name, repetition_type: 'OPTIONAL' as const, converted_type: 'LIST' as const, num_children: 1 },
  { name: 'list', repetition_type: 'REPEATED' as const, num_children: 1 },
  { name: 'element', repetition_type: 'OPTIONAL' as const, num_children: 2 },
  textColumn('role'), textColumn('content'),
];
