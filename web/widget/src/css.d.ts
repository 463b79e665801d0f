// build.mjs imports .css files as their minified text.
declare module "*.css" {
  const text: string;
  export default text;
}
