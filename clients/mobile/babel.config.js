// babel-preset-expo (bundled with expo) for Metro and jest alike.
module.exports = (api) => {
  api.cache(true);
  return { presets: ["babel-preset-expo"] };
};
