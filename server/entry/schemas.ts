import { type Static, Type } from '@sinclair/typebox';

/** The entry API's wire types: the TypeBox schemas are the single source, the types derive from them. */

/** The body of POST /api/entry/allocate. */
export const EntryBody = Type.Object(
  {
    customerId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    phone: Type.Optional(Type.String({ minLength: 5, maxLength: 32 })),
    lat: Type.Optional(Type.Number({ minimum: -90, maximum: 90 })),
    lng: Type.Optional(Type.Number({ minimum: -180, maximum: 180 })),
    regionCode: Type.Optional(Type.String({ minLength: 1, maxLength: 32 })),
    campaign: Type.Optional(Type.String({ minLength: 1, maxLength: 30 })),
  },
  { additionalProperties: false },
);

/** The answer of POST /api/entry/allocate. */
export const EntryAnswerSchema = Type.Object({
  allocationId: Type.String(),
  userid: Type.String(),
  managerName: Type.String(),
  branchCode: Type.Union([Type.String(), Type.Null()]),
  branchName: Type.Union([Type.String(), Type.Null()]),
  distanceMeters: Type.Union([Type.Number(), Type.Null()]),
  reason: Type.String(),
  qrCode: Type.Union([Type.String(), Type.Null()]),
  state: Type.String(),
  expiresAt: Type.Union([Type.Number(), Type.Null()]),
});

export type EntryRequest = Static<typeof EntryBody>;
export type EntryAnswer = Static<typeof EntryAnswerSchema>;
