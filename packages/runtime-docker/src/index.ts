export * from './container-config.js';
export * from './docker-container.js';
export * from './docker-container-factory.js';
export * from './docker-runtime.js';
export * from './image-builder.js';
export * from './labels.js';
export * from './node-runtime-image.js';
