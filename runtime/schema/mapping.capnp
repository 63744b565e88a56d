# How schema types map to TypeScript where the schema alone cannot say.
#
# Wire-neutral: annotations never change the encoding, so schemas carrying
# them stay compatible with peers that ignore them.
@0xd5c2a8f37e41b6a9;

# A `List(T)` field that TypeScript sees as a `Set<T>`.
annotation set(field, param): Void;

# A field whose value passes through the custom codec registered under this
# name (for example `Data` carrying a serialized transaction).
annotation type(field, param): Text;
