/// <reference types="vite/client" />

declare module 'virtual:gb-outline' {
  const outline: import('geojson').Geometry;
  export default outline;
}
