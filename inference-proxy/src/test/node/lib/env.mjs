// Where NodeClientLibrariesTest started the workstation front and the gRPC service.
export const URL = process.env.THUNDERLINK_URL;
export const GRPC = process.env.THUNDERLINK_GRPC;
export const PROTO = process.env.THUNDERLINK_PROTO;
export const MODEL = process.env.THUNDERLINK_MODEL ?? 'coder:32b';
export const EMBED = process.env.THUNDERLINK_EMBED_MODEL ?? 'embed:latest';
if (!URL || !GRPC || !PROTO) {
  throw new Error('run through NodeClientLibrariesTest: THUNDERLINK_URL, THUNDERLINK_GRPC and THUNDERLINK_PROTO must be set');
}
export const weatherTool = {
  name: 'get_weather',
  description: 'Current weather in a city',
  schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};
